import Sentiment from 'sentiment';
import { phrasesIn } from './tone.js';

/** P1 is the most urgent. */
export type Priority = 'P1' | 'P2' | 'P3';

/** One rule of the escalation tree (`escalation.rules`): when it applies, and the team and/or priority it sets. */
export type EscalationRule = { team?: string | undefined; priority?: Priority | undefined } & (
  | { when: 'sla_breach' }
  | { when: 'followers'; over: number }
  | { when: 'keywords'; keywords: string[] }
  /** Strongly negative wording: an AFINN sentiment score at or below `below`. */
  | { when: 'negative'; below: number }
);

/**
 * A case's priority (P1 most urgent) and escalations from the escalation tree, decided from what a
 * customer wrote and who they are: reach (followers), wording (AFINN sentiment, from the
 * `sentiment` library) and the configured rules. Small error + slow response = PR disaster, so a
 * loud or angry customer moves up.
 */
export interface Assessment {
  priority: Priority;
  reasons: string[];
  /** Teams the rules want pulled in, with the index of the rule (its key for "once"). */
  escalate: Array<{ team: string; rule: number }>;
}

const analyzer = new Sentiment();

/** The sentiment score of a text: negative is angry, 0 neutral, positive friendly. */
export function sentimentScore(text: string): number {
  return analyzer.analyze(text).score;
}

const RANK: Record<Priority, number> = { P1: 1, P2: 2, P3: 3 };
export const higher = (a: Priority, b: Priority): Priority => (RANK[a] <= RANK[b] ? a : b);

/** Reach at which a complaint is P2 or P1 on its own, without a rule. */
const REACH_P2 = 10_000;
const REACH_P1 = 100_000;
/** Wording this negative is P2 on its own. */
const NEGATIVE_P2 = -8;

const compact = (n: number) => (n >= 1000 ? `${Math.round(n / 100) / 10}k` : String(n));

export function assess(
  message: {
    text: string;
    followers?: number | null | undefined;
    /** The least priority the source asks for (a one-star review), with its reason. */
    floor?: { at: Priority; reason: string } | undefined;
  },
  rules: EscalationRule[],
  options: { breach?: boolean } = {},
): Assessment {
  const reasons: string[] = [];
  let priority: Priority = 'P3';
  const followers = message.followers ?? 0;
  if (followers >= REACH_P1) {
    priority = 'P1';
    reasons.push(`reach: ${compact(followers)} followers`);
  } else if (followers >= REACH_P2) {
    priority = 'P2';
    reasons.push(`reach: ${compact(followers)} followers`);
  }
  if (message.floor && higher(priority, message.floor.at) !== priority) {
    priority = message.floor.at;
    reasons.push(message.floor.reason);
  }
  const score = sentimentScore(message.text);
  if (score <= NEGATIVE_P2) {
    priority = higher(priority, 'P2');
    reasons.push(`very negative wording (score ${score})`);
  }
  const escalate: Assessment['escalate'] = [];
  rules.forEach((rule, index) => {
    let hit: string | undefined;
    switch (rule.when) {
      case 'followers':
        if (followers > rule.over) hit = `more than ${compact(rule.over)} followers`;
        break;
      case 'keywords': {
        const found = phrasesIn(message.text, rule.keywords);
        if (found.length) hit = `keywords: ${found.join(', ')}`;
        break;
      }
      case 'negative':
        if (score <= rule.below) hit = `negative wording (score ${score})`;
        break;
      case 'sla_breach':
        if (options.breach) hit = 'SLA breach';
        break;
    }
    if (!hit) return;
    const targets = [rule.priority, rule.team && `→ ${rule.team}`].filter(Boolean).join(' ');
    reasons.push(`rule: ${hit}${targets ? ` (${targets})` : ''}`);
    if (rule.priority) priority = higher(priority, rule.priority);
    if (rule.team) escalate.push({ team: rule.team, rule: index });
  });
  return { priority, reasons, escalate };
}
