import { z } from 'zod';
import { duration, slackChannelId } from './fields.js';

/** `crisis` of carebot.config.yaml: the crisis watch, crisis mode and incidents (care/crisis.ts, care/incidents.ts). */

/** Who a crisis alert mentions: a team's key (e.g. pr), a Slack user group (S…) or a user (U…). */
const mentionTarget = z
  .string()
  .regex(
    /^([SUW][A-Z0-9]{2,}|[a-z0-9_-]+)$/,
    'expected a team key (such as pr), a Slack user group id (S…) or a user id (U…)',
  );

export const crisisSchema = z
  .strictObject({
    watch: z
      .boolean()
      .default(true)
      .describe(
        'watch the volume; `false`: crisis mode and incidents by hand only (keyword linking still runs)',
      ),
    channel: slackChannelId.nullable().default(null).meta({
      description: 'where alerts and incidents go (`C…` or `G…`; invite carebot there)',
      default: 'the care channel',
    }),
    mention: z
      .array(mentionTarget)
      .default([])
      .describe(
        'teams (their `key`, e.g. `pr`), user groups (`S…`) and people (`U…`) an alert mentions, besides `managers_usergroup`',
      ),
    check_every: duration.prefault('1m').describe('how often the watch runs (at most `window`)'),
    window: duration
      .prefault('15m')
      .describe('the window counted and compared with the same window of past weeks (at most `1d`)'),
    factor: z
      .number()
      .gt(1, 'expected a factor above 1, such as 3')
      .default(3)
      .describe('a spike is at least this many times the usual count…'),
    min_count: z
      .number()
      .int()
      .positive()
      .default(20)
      .describe('…and at least this many cases in the window'),
    baseline_weeks: z
      .number()
      .int()
      .min(1)
      .max(12)
      .default(4)
      .describe('past weeks whose median is the usual count, so one odd week does not count (1–12)'),
    calm_after: duration
      .prefault('30m')
      .describe('a spike or cluster below its threshold this long is over: the all-clear'),
    cluster: z
      .strictObject({
        min_cases: z
          .number()
          .int()
          .min(2)
          .default(8)
          .describe('a cluster has at least this many new cases in the window'),
        min_terms: z
          .number()
          .int()
          .min(1)
          .max(5)
          .default(1)
          .describe('how many unusual terms its cases must share (1–5)'),
        lift: z
          .number()
          .gt(1)
          .default(5)
          .describe('a term is unusual at this many times its usual share of cases'),
      })
      .prefault({})
      .describe('a cluster: new cases in the window that share unusual terms'),
    mode_on_alert: z
      .boolean()
      .default(true)
      .describe("an alert turns crisis mode on; `false`: only by the alert's button or `/care crisis on`"),
    sla: z
      .strictObject({
        first_response: duration
          .nullable()
          .prefault('15m')
          .describe(
            'first-response target in crisis mode, where tighter than the usual one; `null`: unchanged',
          ),
        next_response: duration
          .nullable()
          .prefault('30m')
          .describe(
            'next-response target in crisis mode, where tighter than the usual one; `null`: unchanged',
          ),
        resolution: duration
          .nullable()
          .prefault(null)
          .describe('resolution target in crisis mode, where tighter than the usual one; `null`: unchanged'),
      })
      .prefault({})
      .describe(
        'SLA targets while crisis mode is on; each only applies where it is tighter than the usual one',
      ),
    statement_per_minute: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(20)
      .describe(
        'an incident statement reaches at most this many customers a minute per source account (1–600)',
      ),
    link_lookback: duration
      .prefault('24h')
      .describe('keyword linking also takes open cases opened this long before the incident'),
  })
  .refine((c) => c.window <= 86_400_000, {
    message: 'expected a window of at most 1d (it is compared with the same window of past weeks)',
    path: ['window'],
  })
  .refine((c) => c.check_every <= c.window, {
    message: 'expected check_every no longer than window, or storms could pass unseen',
    path: ['check_every'],
  })
  .prefault({})
  .describe(
    'The crisis watch, crisis mode and incidents (see [Crisis watch and incidents](features/crisis.md#crisis-watch-and-incidents), and [Tuning the watch](features/crisis.md#tuning-the-watch)).',
  );

/** The crisis settings, resolved: the alert channel defaults to the care channel. */
export function resolveCrisis(c: z.output<typeof crisisSchema>, careChannelId: string) {
  return {
    watch: c.watch,
    /** Alerts and incident threads. */
    channelId: c.channel ?? careChannelId,
    mention: c.mention,
    checkEvery: c.check_every,
    window: c.window,
    factor: c.factor,
    minCount: c.min_count,
    baselineWeeks: c.baseline_weeks,
    calmAfter: c.calm_after,
    cluster: { minCases: c.cluster.min_cases, minTerms: c.cluster.min_terms, lift: c.cluster.lift },
    modeOnAlert: c.mode_on_alert,
    sla: {
      firstResponse: c.sla.first_response,
      nextResponse: c.sla.next_response,
      resolution: c.sla.resolution,
    },
    statementPerMinute: c.statement_per_minute,
    linkLookback: c.link_lookback,
  };
}

/** Crisis watch, crisis mode and incidents (see care/crisis.ts and care/incidents.ts). */
export type CrisisConfig = ReturnType<typeof resolveCrisis>;
