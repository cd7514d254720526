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
    /** Watch the volume for spikes and clusters; false: incidents and crisis mode by hand only. */
    watch: z.boolean().default(true),
    /** Where alerts and incident threads go; null: the care channel. */
    channel: slackChannelId.nullable().default(null),
    /** Who an alert mentions besides `managers_usergroup`: team keys (e.g. pr), user groups, users. */
    mention: z.array(mentionTarget).default([]),
    check_every: duration.prefault('1m'),
    /** The current window that is compared with the same window of past weeks. */
    window: duration.prefault('15m'),
    /** A spike: at least `factor` times the usual count of the window, and at least `min_count` cases. */
    factor: z.number().gt(1, 'expected a factor above 1, such as 3').default(3),
    min_count: z.number().int().positive().default(20),
    /** How many past weeks make the usual count (their median, so one odd week does not count). */
    baseline_weeks: z.number().int().min(1).max(12).default(4),
    /** The spike or cluster is over once it has stayed below its threshold this long. */
    calm_after: duration.prefault('30m'),
    cluster: z
      .strictObject({
        /** At least this many new cases in the window share the unusual terms. */
        min_cases: z.number().int().min(2).default(8),
        /** How many unusual terms they must share. */
        min_terms: z.number().int().min(1).max(5).default(1),
        /** A term is unusual when its share of cases is at least this many times its usual share. */
        lift: z.number().gt(1).default(5),
      })
      .prefault({}),
    /** Turn crisis mode on with a spike alert; false: only by the alert's button or /care crisis on. */
    mode_on_alert: z.boolean().default(true),
    /** SLA targets while crisis mode is on; each only applies where it is tighter than the usual one. */
    sla: z
      .strictObject({
        first_response: duration.nullable().prefault('15m'),
        next_response: duration.nullable().prefault('30m'),
        resolution: duration.nullable().prefault(null),
      })
      .prefault({}),
    /** An incident's statement goes out to at most this many customers a minute per source account. */
    statement_per_minute: z.number().int().min(1).max(600).default(20),
    /** Keyword auto-linking also takes open cases opened this long before the incident. */
    link_lookback: duration.prefault('24h'),
  })
  .refine((c) => c.window <= 86_400_000, {
    message: 'expected a window of at most 1d (it is compared with the same window of past weeks)',
    path: ['window'],
  })
  .refine((c) => c.check_every <= c.window, {
    message: 'expected check_every no longer than window, or storms could pass unseen',
    path: ['check_every'],
  })
  .prefault({});

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
