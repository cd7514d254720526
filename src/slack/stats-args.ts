import { DateTime } from 'luxon';
import { platformKeys, platformWords } from '../care/platforms.js';
import { MAX_RANGE_DAYS, type PeriodSpec } from '../care/stats-period.js';
import { escapeText } from './mrkdwn.js';

/** `/care-stats` arguments: what the command was asked for, and its usage text. */

/** What `/care-stats` was asked for. */
export interface StatsArgs {
  period: PeriodSpec;
  platform?: string;
  /** A source by name (resolved against the config and the database by the caller). */
  sourceName?: string;
  agentId?: string;
  output: 'ephemeral' | 'public' | 'csv';
}

export type ParsedStatsArgs = { ok: true; args: StatsArgs } | { ok: false; problem: string };

type PeriodWord = Exclude<PeriodSpec['kind'], 'range'>;
const PERIODS: ReadonlySet<string> = new Set<PeriodWord>([
  'today',
  'yesterday',
  '7d',
  '30d',
  'this-week',
  'last-week',
]);
const isPeriodWord = (word: string): word is PeriodWord => PERIODS.has(word);
const RANGE = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/;
// Slack sends a picked user as <@U123|name> (or <@U123>) when the command escapes users.
const AGENT = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/;
const SOURCE_NAME = /^[a-z0-9][a-z0-9_.:-]{0,63}$/i;

/**
 * Reads `/care-stats [period] [platform|source] [@agent] [public|csv]` in any order. Each kind
 * may appear once; anything else is a problem to show with the usage.
 */
export function parseStatsArgs(text: string, now: Date, zone: string): ParsedStatsArgs {
  const args: StatsArgs = { period: { kind: '7d' }, output: 'ephemeral' };
  const seen = new Set<string>();
  const once = (kind: string, token: string): string | undefined => {
    if (seen.has(kind)) return `\`${escapeText(token)}\`: only one ${kind} at a time`;
    seen.add(kind);
    return undefined;
  };
  for (const token of text.match(/<[^>]*>|\S+/g) ?? []) {
    const word = token.toLowerCase();
    const range = RANGE.exec(token);
    const agent = AGENT.exec(token);
    let problem: string | undefined;
    if (isPeriodWord(word)) {
      problem = once('period', token);
      args.period = { kind: word };
    } else if (range?.[1] && range[2]) {
      problem = once('period', token) ?? rangeProblem(range[1], range[2], now, zone);
      args.period = { kind: 'range', from: range[1], to: range[2] };
    } else if (word === 'public' || word === 'csv') {
      problem = once('output', token);
      args.output = word;
    } else if (agent?.[1]) {
      problem = once('agent', token);
      args.agentId = agent[1];
    } else if (token.startsWith('@') || token.startsWith('<@')) {
      problem = `\`${escapeText(token)}\`: pick the agent from Slack's @ menu so the name becomes a mention`;
    } else if (platformWords().has(word)) {
      problem = once('platform or source', token);
      args.platform = platformWords().get(word);
    } else if (SOURCE_NAME.test(token)) {
      problem = once('platform or source', token);
      args.sourceName = token;
    } else {
      problem = `I don't know \`${escapeText(token)}\``;
    }
    if (problem) return { ok: false, problem };
  }
  return { ok: true, args };
}

function rangeProblem(from: string, to: string, now: Date, zone: string): string | undefined {
  const a = DateTime.fromISO(from, { zone });
  const b = DateTime.fromISO(to, { zone });
  if (!a.isValid || !b.isValid) return `\`${from}..${to}\`: not a real date`;
  if (b < a) return `\`${from}..${to}\`: the first date must not be after the second`;
  if (b.diff(a, 'days').days + 1 > MAX_RANGE_DAYS) return `a range can span at most ${MAX_RANGE_DAYS} days`;
  if (a > DateTime.fromJSDate(now, { zone })) return `\`${from}..${to}\`: starts in the future`;
  return undefined;
}

export function usageText(problem?: string): string {
  return [
    ...(problem ? [`:thinking_face: ${problem}.`, ''] : []),
    '*Usage:* `/care-stats [period] [platform or source] [@agent] [public|csv]`',
    '• *period*: `today`, `yesterday`, `7d` (the default), `30d`, `this-week`, `last-week` or `2026-11-01..2026-11-15`',
    `• *platform*: ${platformKeys()
      .map((k) => `\`${k}\``)
      .join(', ')}, or a source by name, such as \`forum\``,
    '• *@agent*: only the cases they own and the replies they sent',
    '• `public` posts the figures and a daily chart in this channel; `csv` posts the cases of the period here as a CSV file (carebot must be a member of the channel)',
  ].join('\n');
}

export const REFUSAL_TEXT =
  ':lock: Sorry, `/care-stats` is for the care managers. Ask one of them, or an admin to add you to the managers group.';
