import cron from 'node-cron';
import { z } from 'zod';
import type { EscalationRule, Priority } from '../care/priority.js';
import type { Team } from '../care/teams.js';
import { crisisSchema, resolveCrisis } from './crisis.js';
import {
  clockTime,
  duration,
  percent,
  slackChannelId,
  timezone,
  usergroupId,
  userId,
  weekday,
} from './fields.js';

/**
 * Everything in carebot.config.yaml and the environment except the sources (each source module
 * brings its own part, see src/sources/types.ts): care hours, SLA, teams, escalation, crisis, and
 * the deployment (Slack tokens, database, port).
 */

const priority = z.enum(['P1', 'P2', 'P3'], { error: 'expected P1, P2 or P3' });

const ruleTarget = {
  team: z.string().optional(),
  priority: priority.optional(),
};

const escalationRuleSchema = z
  .discriminatedUnion('when', [
    z.strictObject({ when: z.literal('sla_breach'), ...ruleTarget }),
    z.strictObject({ when: z.literal('followers'), over: z.number().int().positive(), ...ruleTarget }),
    z.strictObject({
      when: z.literal('keywords'),
      keywords: z.array(z.string().min(1)).min(1),
      ...ruleTarget,
    }),
    /** Strongly negative wording: an AFINN sentiment score at or below `below` (default -5). */
    z.strictObject({ when: z.literal('negative'), below: z.number().default(-5), ...ruleTarget }),
  ])
  .refine((r) => r.team || r.priority, 'a rule needs a team, a priority or both');

/** The file's sections besides `sources`, in the order they are documented. */
export const careFileShape = {
  timezone: timezone.default('UTC'),
  business_hours: z
    .union([
      z.literal('always'),
      z
        .strictObject({
          days: z.array(weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
          start: clockTime.default('09:00'),
          end: clockTime.default('18:00'),
          holidays: z.array(z.iso.date({ error: 'expected dates as YYYY-MM-DD' })).default([]),
        })
        .refine((bh) => bh.end > bh.start, { message: 'end must be after start', path: ['end'] }),
    ])
    .prefault({}),
  sla: z
    .strictObject({
      first_response: duration.prefault('1h'),
      next_response: duration.prefault('1h'),
      resolution: duration.prefault('24h'),
      check_every: duration.prefault('30s'),
      /** Targets per priority; a priority not listed uses the targets above. */
      priorities: z
        .partialRecord(
          priority,
          z.strictObject({
            first_response: duration.optional(),
            next_response: duration.optional(),
            resolution: duration.optional(),
          }),
        )
        .default({}),
      /** After a first-response breach, the owner's case goes back to the team (unclaimed). */
      release_on_breach: z.boolean().default(true),
      /** An unclaimed case nudges the care team after this long (business time); null: never. */
      unclaimed_after: duration.nullable().prefault('10m'),
      /** Response clocks: a quiet note at this share of the target, a mention at the second. */
      response_warnings: z.tuple([percent, percent]).default([50, 80]),
      /** Resolution clock: mention the owner this long before the deadline. */
      resolution_warnings: z.array(duration).prefault(['4h', '1h']),
      /** On a breach, escalate to this team (a key of `teams`); null: only mention the managers. */
      breach_escalate_to: z.string().nullable().default(null),
      /** Remind outside business hours too. */
      remind_outside_hours: z.boolean().default(false),
    })
    .prefault({}),
  stats: z
    .strictObject({
      /** Channel for the weekly digest; null: no digest. */
      digest_channel: slackChannelId.nullable().default(null),
      /** node-cron expression of the digest, in `timezone`. */
      digest_cron: z
        .string()
        .refine(
          (expr) => cron.validate(expr),
          'expected a cron expression such as "0 9 * * 1" (Mondays 09:00)',
        )
        .default('0 9 * * 1'),
    })
    .prefault({}),
  reply_delay: duration.prefault('10s'),
  reopen_within: duration.prefault('7d'),
  tone: z
    .strictObject({
      // Each list replaces the built-in one when given; `extra_*` adds to it.
      selling: z.array(z.string().min(1)).optional(),
      jargon: z.array(z.string().min(1)).optional(),
      arguing: z.array(z.string().min(1)).optional(),
      extra_selling: z.array(z.string().min(1)).default([]),
      extra_jargon: z.array(z.string().min(1)).default([]),
      extra_arguing: z.array(z.string().min(1)).default([]),
      /** Maximum reply length per platform, in the platform's own counting. */
      max_length: z.record(z.string(), z.number().int().positive()).default({}),
    })
    .prefault({}),
  care_team_usergroup: usergroupId.nullable().default(null),
  managers_usergroup: usergroupId.nullable().default(null),
  teams: z
    .array(
      z
        .strictObject({
          key: z.string().regex(/^[a-z0-9_-]+$/, 'expected a short lowercase key such as pr'),
          name: z.string().min(1),
          usergroup: usergroupId.optional(),
          users: z.array(userId).optional(),
          /** Not acknowledged within this → mention the team again and tell the owner. */
          ack_within: duration.prefault('30m'),
        })
        .refine((t) => t.usergroup || t.users?.length, 'a team needs a usergroup or users to mention'),
    )
    .default([])
    .refine((teams) => new Set(teams.map((t) => t.key)).size === teams.length, 'team keys must be unique'),
  escalation: z
    .strictObject({
      /** While a case waits on a team, remind the owner to keep the customer informed this often. */
      update_every: duration.prefault('4h'),
      /** The escalation tree: each rule names a team and/or a priority. */
      rules: z.array(escalationRuleSchema).default([]),
    })
    .prefault({}),
  crisis: crisisSchema,
};

const slackToken = (prefix: string, what: string) =>
  z.string({ error: `missing: set it to ${what}` }).startsWith(prefix, `expected ${what}`);

/** Variables every deployment reads (the sources' own follow in envSchema). */
export const careEnvShape = {
  SLACK_BOT_TOKEN: slackToken(
    'xoxb-',
    "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page",
  ),
  SLACK_APP_TOKEN: slackToken(
    'xapp-',
    'an app-level token (xapp-…) with connections:write, from Basic Information',
  ).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_API_URL: z
    .url({ error: 'expected the Slack Web API base URL, e.g. https://slack.com/api/' })
    .default('https://slack.com/api/')
    .transform((u) => (u.endsWith('/') ? u : `${u}/`)),
  CARE_CHANNEL_ID: slackChannelId.or(z.undefined()).refine((v) => v !== undefined, {
    message: 'missing: set it to the id of the Slack channel where cases are posted (e.g. C0123ABCD)',
  }),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL such as postgres://user@host:5432/carebot')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).default(3000),
  /** Open connections the HTTP server accepts at once; more are closed as they arrive. */
  HTTP_MAX_CONNECTIONS: z.coerce
    .number({ error: 'expected a number of connections' })
    .int()
    .min(1, 'expected at least 1')
    .default(1000),
  CARE_CONFIG: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

const careFile = z.strictObject(careFileShape);
const careEnv = z.object(careEnvShape);
export type CareFile = z.output<typeof careFile>;
export type CareEnv = z.output<typeof careEnv>;

/** Everything carebot runs on but the sources, resolved: secrets and deployment from the environment, the rest from the file. */
export function resolveCare(e: CareEnv, f: CareFile) {
  const careChannelId = e.CARE_CHANNEL_ID as string;
  const teams: Team[] = f.teams.map((t) => ({
    key: t.key,
    name: t.name,
    usergroup: t.usergroup,
    users: t.users,
    ackWithin: t.ack_within,
  }));
  const rules: EscalationRule[] = f.escalation.rules;
  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      apiUrl: e.SLACK_API_URL,
    },
    careChannelId,
    database: e.DATABASE_URL ? { url: e.DATABASE_URL } : { dataDir: e.DATA_DIR },
    port: e.PORT,
    /** HTTP_MAX_CONNECTIONS: connections the HTTP server holds open at once. */
    maxConnections: e.HTTP_MAX_CONNECTIONS,
    logLevel: e.LOG_LEVEL,
    timezone: f.timezone,
    businessHours: f.business_hours,
    sla: {
      firstResponse: f.sla.first_response,
      nextResponse: f.sla.next_response,
      resolution: f.sla.resolution,
      checkEvery: f.sla.check_every,
      unclaimedAfter: f.sla.unclaimed_after,
      responseWarnings: f.sla.response_warnings,
      resolutionWarnings: f.sla.resolution_warnings,
      breachEscalateTo: f.sla.breach_escalate_to,
      remindOutsideHours: f.sla.remind_outside_hours,
      priorities: Object.fromEntries(
        Object.entries(f.sla.priorities).map(([p, t]) => [
          p,
          { firstResponse: t?.first_response, nextResponse: t?.next_response, resolution: t?.resolution },
        ]),
      ) as Partial<Record<Priority, PriorityTargets>>,
      releaseOnBreach: f.sla.release_on_breach,
    },
    replyDelay: f.reply_delay,
    stats: { digestChannel: f.stats.digest_channel, digestCron: f.stats.digest_cron },
    reopenWithin: f.reopen_within,
    tone: f.tone,
    careTeamUsergroup: f.care_team_usergroup,
    managersUsergroup: f.managers_usergroup,
    teams,
    escalation: { updateEvery: f.escalation.update_every, rules },
    crisis: resolveCrisis(f.crisis, careChannelId),
  };
}

interface PriorityTargets {
  firstResponse?: number | undefined;
  nextResponse?: number | undefined;
  resolution?: number | undefined;
}

export type CareConfig = ReturnType<typeof resolveCare>;

/** Problems only seen across settings: names of teams that `teams` does not define. */
export function crossCheckCare(f: CareFile, path: string): string[] {
  const problems: string[] = [];
  for (const [i, rule] of f.escalation.rules.entries()) {
    if (rule.team && !f.teams.some((t) => t.key === rule.team)) {
      problems.push(
        `${path}: escalation.rules.${i}.team: no team has the key ${rule.team}; add it under teams`,
      );
    }
  }
  for (const [i, target] of f.crisis.mention.entries()) {
    if (/^[a-z0-9_-]+$/.test(target) && !f.teams.some((t) => t.key === target)) {
      problems.push(`${path}: crisis.mention.${i}: no team has the key ${target}; add it under teams`);
    }
  }
  const breachTeam = f.sla.breach_escalate_to;
  if (breachTeam && !f.teams.some((t) => t.key === breachTeam)) {
    problems.push(`${path}: sla.breach_escalate_to: no team has the key ${breachTeam}; add it under teams`);
  }
  return problems;
}
