import type { types, webApi } from '@slack/bolt';
import { DateTime } from 'luxon';
import { type Duration, milliseconds } from '../care/clock.js';
import type { IncidentFigures } from '../care/incident-stats.js';
import type { CareStats } from '../care/stats.js';
import type { StatsPeriod } from '../care/stats-period.js';
import type { CountBy, Share, Versus } from '../care/stats-query.js';
import type { ResponseFigures } from '../care/stats-response.js';
import type { Team } from '../care/teams.js';
import { teamByKey } from '../care/teams.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { plain, platformLabel, platformName } from './case-card.js';
import type { StatsArgs } from './stats-args.js';

/** A platform key, or `<platform>:<source>` for a source named by its sender (webhook), as cards name it. */
const sourceName = (key: string) => platformLabel(key.split(':')[0] ?? key, key);

import { statsChartPng } from './chart.js';
import { shareFile } from './files.js';
import { fitMessage, fitText, type SlackMessage } from './limits.js';
import { escapeText, mentionUser } from './mrkdwn.js';
import { csatText } from './stats-csat.js';
import { workflowText } from './stats-workflow.js';

type WebClient = webApi.WebClient;

export interface StatsMessageOptions {
  teams: Team[];
  businessHours: Config['businessHours'];
  /** How the filter reads, e.g. "X", "forum" (already mrkdwn). */
  filterLabel?: string | undefined;
  /** A mrkdwn link to the oldest waiting case's thread, when it could be made. */
  oldestWaitingLink?: string | undefined;
  /** Whether a chart goes with the message (public posts) or the reader is told how to get one. */
  chart: 'attached' | 'on_request';
}

const SECTION_MAX = 3000;
const MAX_AGENTS = 15;

/** The figures as a compact Block Kit message: a handful of sections that read well on a phone. */
export function statsMessage(s: CareStats, o: StatsMessageOptions): SlackMessage {
  const title = `Care stats: ${periodTitle(s.period)}`;
  const scope = [
    `${periodDates(s.period)}, compared with ${previousLabel(s.period)}`,
    `times in ${s.period.zone}`,
    ...(o.filterLabel ? [`only ${o.filterLabel}`] : []),
  ].join(' · ');
  const b = s.backlog;
  const open = b.unclaimed + b.owned;
  const oldest = b.oldestWaiting
    ? `\nOldest waiting: ${o.oldestWaitingLink ?? `case #${b.oldestWaiting.caseId}`}, for ${span(since(b.oldestWaiting.since, s.generatedAt))}`
    : '';
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: plain(truncateText(title, 150)) },
    { type: 'context', elements: [{ type: 'mrkdwn', text: scope }] },
    {
      type: 'section',
      fields: [
        mrkdwn(`*New cases*\n${s.newCases.current} ${countChange(s.newCases)}`),
        mrkdwn(
          `*Open now*\n${open}: ${b.unclaimed} unclaimed, ${b.owned} claimed\n${b.waitingOnTeam} waiting on a team · ${b.overdue} overdue`,
        ),
      ],
    },
    section(
      [
        `*By platform* ${countList(s.byPlatform, sourceName) || 'none'}`,
        `*By priority* ${countList(s.byPriority, (k) => k) || 'none'}`,
      ].join('\n') + oldest,
    ),
    { type: 'divider' },
    section(responseText('First answer', 'cases opened in the period', s.firstResponse)),
    section(responseText('Next answer', 'customer follow-ups in the period', s.nextResponse)),
    section(
      [
        `*Resolution* _(cases resolved in the period: ${s.resolution.current.resolved})_`,
        `median ${span(s.resolution.current.median)}${was(s.resolution.current.median, s.resolution.previous.median)} · p90 ${span(s.resolution.current.p90)}`,
        `within SLA ${pct(s.resolution.current.withinSla)}${pointsChange(s.resolution.current.withinSla, s.resolution.previous.withinSla)}`,
      ].join('\n'),
    ),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Medians, p90 and "within 30 min / 1 h" are clock time; unanswered customers count as missed once that time has passed. "Within SLA" compares with each deadline, which counts business hours (${businessHoursLabel(o.businessHours)}) as the SLA does.`,
        },
      ],
    },
    { type: 'divider' },
    section(
      [
        `*Breaches* ${countList(s.breaches, clockName) || 'none'}`,
        `*Escalations* ${s.escalations.length ? '' : 'none'}`,
        ...s.escalations.map((e) => {
          const team = teamByKey(o.teams, e.key).name;
          return `• ${escapeText(team)}: ${e.current}${countChange(e, ' ')} · acknowledged in ${span(e.ackMedian)} · answered in ${span(e.answerMedian)} (medians) · ${e.current - e.answered} unanswered`;
        }),
      ].join('\n'),
    ),
    section(agentsText(s)),
    ...(s.csat && (s.csat.overall.current.asked || s.csat.overall.previous.count)
      ? [section(csatText(s.csat))]
      : []),
    ...workflowSection(s),
    ...(s.incidents?.length ? [section(incidentsText(s.incidents))] : []),
    section(hoursText(s)),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text:
            o.chart === 'attached'
              ? ':bar_chart: The chart below shows new cases a day and the share answered within SLA.'
              : ':bar_chart: Add `public` to post this in the channel with a daily chart, or `csv` for every case.',
        },
      ],
    },
  ];
  const text = `${title}: ${s.newCases.current} new cases · Open: ${open} (${b.unclaimed} unclaimed, ${b.owned} claimed) · first answer median ${span(s.firstResponse.current.median)}, ${pct(s.firstResponse.current.withinSla)} within SLA`;
  return fitMessage({ text, blocks });
}

function workflowSection(s: CareStats): types.SectionBlock[] {
  const text = s.workflow && workflowText(s.workflow, span);
  return text ? [section(text)] : [];
}

function responseText(name: string, basis: string, f: Versus<ResponseFigures>): string {
  const c = f.current;
  const p = f.previous;
  return [
    `*${name}* _(${basis}: ${c.answered} answered)_`,
    `median ${span(c.median)}${was(c.median, p.median)} · p90 ${span(c.p90)}${was(c.p90, p.p90)}`,
    `within 30 min ${pct(c.within30m)} · 1 h ${pct(c.within1h)} · SLA ${pct(c.withinSla)}${pointsChange(c.withinSla, p.withinSla)}`,
  ].join('\n');
}

function agentsText(s: CareStats): string {
  if (s.agents.length === 0) return '*Agents* no owned cases or replies in the period';
  const lines = s.agents
    .slice(0, MAX_AGENTS)
    .map(
      (a) =>
        `• ${mentionUser(a.userId)} ${plural(a.casesOwned, 'case')} · ${plural(a.repliesSent, 'reply', 'replies')} · first answer ${span(a.firstResponseMedian)} · SLA ${pct(a.sla)}`,
    );
  const more = s.agents.length - MAX_AGENTS;
  return [
    '*Agents* _(cases opened in the period they own · replies sent · median first answer · first answer and resolution deadlines met)_',
    ...lines,
    ...(more > 0 ? [`…and ${more} more`] : []),
  ].join('\n');
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** Hour-of-week heat rows: one character an hour, taller where more happened. */
export function heatRows(grid: number[][]): string[] {
  const max = Math.max(0, ...grid.flat());
  const axis = `${' '.repeat(4)}${[0, 6, 12, 18].map((h) => String(h).padEnd(6)).join('')}`.trimEnd();
  return [
    axis,
    ...grid.map(
      (hours, i) =>
        `${DAY_NAMES[i]} ${hours
          .map((n) => (n === 0 || max === 0 ? '·' : LEVELS[Math.min(7, Math.ceil((n / max) * 8) - 1)]))
          .join('')}`,
    ),
  ];
}

function hoursText(s: CareStats): string {
  const total = s.newCases.current;
  const o = s.outsideHours;
  const outside = total
    ? `${Math.round((100 * o.cases) / total)}% arrived outside business hours; their median first answer ${span(o.firstResponseMedianOutside)} vs ${span(o.firstResponseMedianInside)} inside.`
    : '';
  return truncateText(
    [
      `*When customers write, and when we answer* _(hour of the week, ${s.period.zone})_`,
      '```',
      'New cases',
      ...heatRows(s.arrivalsByHour),
      'Replies sent',
      ...heatRows(s.repliesByHour),
      '```',
      outside,
    ]
      .filter(Boolean)
      .join('\n'),
    SECTION_MAX,
  );
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const mrkdwn = (text: string): types.MrkdwnElement => ({ type: 'mrkdwn', text: truncateText(text, 2000) });
const section = (text: string): types.SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncateText(text, SECTION_MAX) },
});

/** Cuts escaped mrkdwn between graphemes, entities and `<…>` tokens (see limits.ts). */
const truncateText = fitText;

function countList(items: CountBy[], name: (key: string) => string): string {
  return items
    .filter((i) => i.current || i.previous)
    .map((i) => `${escapeText(name(i.key))} ${i.current}${countChange(i, ' ')}`)
    .join(' · ');
}

const CLOCK_NAMES: Record<string, string> = {
  first_response: 'first answer',
  next_response: 'next answer',
  resolution: 'resolution',
};
const clockName = (key: string) => CLOCK_NAMES[key] ?? key.replace(/_/g, ' ');

/** "(+12% vs 114)": the change of a count against the previous period. */
export function countChange(v: { current: number; previous: number }, lead = ''): string {
  if (v.previous === 0) return v.current === 0 ? '' : `${lead}(none before)`;
  const change = Math.round(((v.current - v.previous) / v.previous) * 100);
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  return `${lead}(${sign}${Math.abs(change)}% vs ${v.previous})`;
}

/** " (+4 pts)": the change of a share, in percentage points. */
export function pointsChange(current: Share, previous: Share): string {
  if (!current.of || !previous.of) return '';
  const change = Math.round((100 * current.hits) / current.of - (100 * previous.hits) / previous.of);
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  return ` (${sign}${Math.abs(change)} pts)`;
}

const was = (current: Duration | null, previous: Duration | null) =>
  current !== null && previous !== null ? ` (was ${span(previous)})` : '';

export function pct(s: Share): string {
  return s.of ? `${Math.round((100 * s.hits) / s.of)}%` : '–';
}

const since = (from: Date, now: Date) => milliseconds(Math.max(0, now.getTime() - from.getTime()));

/** A duration the way people say it: 45s, 42m, 3h 10m, 2d 3h. */
export function span(d: Duration | null): string {
  if (d === null) return '–';
  const s = Math.round(d / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const days = Math.floor(h / 24);
  return h % 24 ? `${days}d ${h % 24}h` : `${days}d`;
}

export function periodTitle(p: StatsPeriod): string {
  switch (p.spec.kind) {
    case 'today':
      return 'today';
    case 'yesterday':
      return 'yesterday';
    case '7d':
      return 'last 7 days';
    case '30d':
      return 'last 30 days';
    case 'this-week':
      return 'this week';
    case 'last-week':
      return 'last week';
    case 'range':
      return periodDates(p);
  }
}

/** "17–23 Nov 2026", "28 Nov – 4 Dec 2026", "23 Nov 2026". */
export function periodDates(p: StatsPeriod): string {
  const first = DateTime.fromISO(p.days[0] ?? '', { zone: p.zone });
  const last = DateTime.fromISO(p.days[p.days.length - 1] ?? '', { zone: p.zone });
  if (!first.isValid || !last.isValid || first.hasSame(last, 'day')) return first.toFormat('d LLL yyyy');
  if (first.hasSame(last, 'month')) return `${first.toFormat('d')}–${last.toFormat('d LLL yyyy')}`;
  if (first.hasSame(last, 'year')) return `${first.toFormat('d LLL')} – ${last.toFormat('d LLL yyyy')}`;
  return `${first.toFormat('d LLL yyyy')} – ${last.toFormat('d LLL yyyy')}`;
}

function previousLabel(p: StatsPeriod): string {
  const days = Math.round((p.current.start.getTime() - p.previous.start.getTime()) / 86_400_000);
  if (p.spec.kind === 'today') return 'the same hours yesterday';
  if (p.spec.kind === 'yesterday') return 'the day before';
  if (p.spec.kind === 'this-week') return 'the same days last week';
  if (p.spec.kind === 'last-week') return 'the week before';
  return `the ${days} days before`;
}

export function businessHoursLabel(bh: Config['businessHours']): string {
  if (bh === 'always') return 'around the clock';
  const order = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const idx = [...new Set(bh.days)].map((d) => order.indexOf(d)).sort((a, b) => a - b);
  const name = (i: number) => DAY_NAMES[i] ?? '';
  const consecutive = idx.every((d, i) => i === 0 || d === (idx[i - 1] ?? 0) + 1);
  const days =
    idx.length > 2 && consecutive
      ? `${name(idx[0] ?? 0)}–${name(idx[idx.length - 1] ?? 0)}`
      : idx.map(name).join(', ');
  return `${days} ${bh.start}–${bh.end}`;
}

export function filterLabel(args: StatsArgs): string | undefined {
  const parts = [
    ...(args.platform ? [platformName(args.platform)] : []),
    ...(args.sourceName ? [escapeText(args.sourceName)] : []),
    ...(args.agentId ? [mentionUser(args.agentId)] : []),
  ];
  return parts.length ? parts.join(', ') : undefined;
}

/** A link to a case's Slack thread, or undefined when Slack cannot make one. */
export async function threadLink(
  client: WebClient,
  caseId: number,
  thread: { channelId: string; threadTs: string } | undefined,
): Promise<string | undefined> {
  if (!thread) return undefined;
  try {
    const res = await client.chat.getPermalink({ channel: thread.channelId, message_ts: thread.threadTs });
    return res.permalink ? `<${res.permalink}|case #${caseId}>` : undefined;
  } catch {
    // The case number alone still says which case it is.
    return undefined;
  }
}

/**
 * Posts the figures in a channel, then the daily chart under them. A chart that cannot be
 * uploaded is logged and left out: the figures are what matter. Returns the message's ts.
 */
export async function postStats(
  client: WebClient,
  channelId: string,
  stats: CareStats,
  options: Omit<StatsMessageOptions, 'chart'>,
  logger: Logger,
): Promise<string | undefined> {
  const message = statsMessage(stats, { ...options, chart: 'attached' });
  const res = await client.chat.postMessage({
    channel: channelId,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    unfurl_media: false,
  });
  try {
    const first = stats.period.days[0] ?? 'period';
    const last = stats.period.days[stats.period.days.length - 1] ?? first;
    const title = `Care stats: ${periodTitle(stats.period)} (${periodDates(stats.period)})`;
    await shareFile(client, {
      channelId,
      filename: `care-stats-${first}-${last}.png`,
      title,
      bytes: statsChartPng(stats.daily, { title, zone: stats.period.zone }),
      altText: `Bar chart of new cases a day with a line for the share answered within SLA, ${periodDates(stats.period)}`,
    });
  } catch (err) {
    logger.warn(
      { err: slackErrorCode(err), channelId },
      'could not upload the stats chart; does the Slack app have the files:write scope?',
    );
  }
  return res.ts;
}

/** The Slack error code of a failed Web API call, for logs and for telling people what to do. */
export function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e?.data?.error ?? e?.code ?? e?.message ?? 'unknown';
}

/** What to tell someone whose stats could not be posted in a channel. */
export function channelProblemText(code: string): string {
  if (code === 'not_in_channel' || code === 'channel_not_found')
    return ':warning: carebot is not a member of this channel, so it cannot post here. Invite it with `/invite @carebot`, or run the command in the care channel.';
  if (code === 'missing_scope')
    return ':warning: The Slack app lacks a permission for this (files:write for charts and CSV files). Ask an admin to reinstall it from manifest.yml.';
  return `:warning: Slack refused the post (${escapeText(code)}). Try again in a minute.`;
}

/** Incidents of the period: how many cases each drew and how fast they were answered. */
function incidentsText(incidents: IncidentFigures[]): string {
  return [
    '*Incidents*',
    ...incidents.map((i) => {
      const lasted = i.resolvedAt
        ? ` · resolved after ${span(since(i.openedAt, i.resolvedAt))}`
        : ` · ${i.status}`;
      const statement = i.statementsSent
        ? ` · statement out ${span(i.statementAfter)} after opening (${plural(i.statementsSent, 'customer')})`
        : ' · no statement sent';
      return `• #${i.id} ${escapeText(truncateText(i.title, 80))}: ${plural(i.cases, 'case')}, ${i.answered} answered, first answer ${span(i.firstAnswerMedian)} (median)${statement}${lasted}`;
    }),
  ].join('\n');
}
