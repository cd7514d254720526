import { lengthRules, platformInfo } from './platforms.js';

/**
 * The tone check every reply passes before it is queued: social care's rules say don't sell, don't
 * argue, no corporate jargon, and the reply must fit where it is going. Findings hold the reply
 * until its author edits it or chooses to send it anyway.
 */
export interface ToneFinding {
  rule: 'empty' | 'selling' | 'jargon' | 'arguing' | 'length';
  message: string;
}

export interface ToneRules {
  selling: string[];
  jargon: string[];
  arguing: string[];
  /** `tone.max_length`: limits set in the config, over the platforms' own (see `lengthLimit`). */
  maxLength: Record<string, number>;
}

const DEFAULT_SELLING = [
  'buy now',
  'special offer',
  'exclusive offer',
  'limited time',
  'discount code',
  'promo code',
  'coupon',
  'upgrade to premium',
  'upgrade your plan',
  'check out our',
  "don't miss out",
  'sign up now',
  '% off',
];

const DEFAULT_JARGON = [
  'synergy',
  'leverage',
  'going forward',
  'circle back',
  'touch base',
  'as per',
  'per our policy',
  'at this point in time',
  'we apologize for any inconvenience',
  'your call is important',
  'value-add',
  'best-in-class',
  'paradigm',
  'ticket has been escalated to the relevant team',
];

const DEFAULT_ARGUING = [
  "you're wrong",
  'you are wrong',
  "that's not true",
  'that is not true',
  'as i already said',
  'as i said before',
  'calm down',
  'you should have',
  'not our fault',
  'your fault',
  'read the manual',
  'you clearly',
];

/** `tone` of carebot.config.yaml: each list replaces the built-in one; `extra_*` adds to it. */
export interface ToneSettings {
  selling?: string[] | undefined;
  jargon?: string[] | undefined;
  arguing?: string[] | undefined;
  extra_selling: string[];
  extra_jargon: string[];
  extra_arguing: string[];
  max_length: Record<string, number>;
}

/**
 * Where a case's replies go, as the tone check's limits name it: the platform for public
 * replies, or its direct-message target (`x_dm`, `messenger`, `instagram_dm`) for DM
 * conversations and cases moved to private replies.
 */
export function replyTarget(c: { platform: string; conversationId: string; replyMode: string }): string {
  const facts = platformInfo(c.platform);
  const direct = c.replyMode === 'private' || facts.isDirect?.(c.conversationId) === true;
  return (direct ? facts.length?.direct?.target : undefined) ?? c.platform;
}

export function toneRules(tone: ToneSettings): ToneRules {
  return {
    selling: [...(tone.selling ?? DEFAULT_SELLING), ...tone.extra_selling],
    jargon: [...(tone.jargon ?? DEFAULT_JARGON), ...tone.extra_jargon],
    arguing: [...(tone.arguing ?? DEFAULT_ARGUING), ...tone.extra_arguing],
    // Only the configured limits: the platforms' own are read at each check (see `lengthLimit`).
    maxLength: { ...tone.max_length },
  };
}

/**
 * The longest reply `target` takes: `tone.max_length` when set, else the platform's own limit, read
 * now, as a platform may learn it at run time (a Mastodon instance says its own).
 */
export function lengthLimit(target: string, rules: ToneRules): number | undefined {
  return rules.maxLength[target] ?? lengthRules().get(target)?.limit;
}

/** The reply's length as its target counts it (X posts weighted, everything else in characters). */
export function platformLength(text: string, target: string): number {
  const count = lengthRules().get(target)?.count;
  return count ? count(text) : Array.from(text).length;
}

export function phrasesIn(text: string, phrases: string[]): string[] {
  const normalized = text.toLowerCase().replace(/[\u2018\u2019]/g, "'");
  return phrases.filter((phrase) => {
    const p = phrase.toLowerCase();
    let from = 0;
    for (;;) {
      const at = normalized.indexOf(p, from);
      if (at < 0) return false;
      // Whole words only, so "coupon" matches "Coupon!" but "deal" would not match "ideal".
      const before = normalized[at - 1];
      const after = normalized[at + p.length];
      const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
      const startsWord = !/^[\p{L}\p{N}]/u.test(p) || !isWordChar(before);
      const endsWord = !/[\p{L}\p{N}]$/u.test(p) || !isWordChar(after);
      if (startsWord && endsWord) return true;
      from = at + 1;
    }
  });
}

const quoteList = (items: string[]) => items.map((i) => `“${i}”`).join(', ');

/** `platform` is where the reply goes: a platform, or a target from `replyTarget`. */
export function checkTone(text: string, platform: string, rules: ToneRules): ToneFinding[] {
  const findings: ToneFinding[] = [];
  if (text.trim() === '') return [{ rule: 'empty', message: 'The reply is empty.' }];
  const selling = phrasesIn(text, rules.selling);
  if (selling.length) {
    findings.push({
      rule: 'selling',
      message: `Sounds like selling (${quoteList(selling)}). Help first; don't sell.`,
    });
  }
  const jargon = phrasesIn(text, rules.jargon);
  if (jargon.length) {
    findings.push({
      rule: 'jargon',
      message: `Corporate jargon (${quoteList(jargon)}). Say it the way you would to a friend.`,
    });
  }
  const arguing = phrasesIn(text, rules.arguing);
  if (arguing.length) {
    findings.push({
      rule: 'arguing',
      message: `Reads as arguing with the customer (${quoteList(arguing)}).`,
    });
  }
  const limit = lengthLimit(platform, rules);
  if (limit !== undefined) {
    const length = platformLength(text, platform);
    if (length > limit) {
      const rule = lengthRules().get(platform);
      findings.push({
        rule: 'length',
        message: `Too long for ${rule?.name ?? platform}: ${length} of ${limit} characters${rule?.countedBy ? ` as ${rule.countedBy} counts them` : ''}.`,
      });
    }
  }
  return findings;
}
