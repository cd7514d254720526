// Over 400 lines on purpose: every key's zod schema carries its documentation (.describe), from
// which docs/configuration.md is generated; splitting it would scatter one section of the file.
import cron from 'node-cron';
import { z } from 'zod';
import type { EscalationRule, Priority } from '../care/priority.js';
import type { Team } from '../care/teams.js';
import { crisisSchema, resolveCrisis } from './crisis.js';
import {
  clockTime,
  duration,
  percent,
  priority,
  slackChannelId,
  timezone,
  usergroupId,
  userId,
  weekday,
} from './fields.js';
import { crossCheckWorkflow, resolveWorkflow, workflowFileShape } from './workflow.js';

/**
 * Everything in carebot.config.yaml and the environment except the sources (each source module
 * brings its own part, see src/sources/types.ts): care hours, SLA, teams, escalation, crisis, and
 * the deployment (Slack tokens, database, port).
 */

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

/** Phrases of the tone check. */
const phrases = z.array(z.string().min(1));
const BUILT_IN = 'the built-in list';

/** The file's sections besides `sources`, in the order they are documented. */
export const careFileShape = {
  timezone: timezone
    .default('UTC')
    .describe('IANA time zone of the business-hours calendar (and of the stats digest)'),
  business_hours: z
    .union([
      z.literal('always'),
      z
        .strictObject({
          days: z
            .array(weekday)
            .min(1)
            .default(['mon', 'tue', 'wed', 'thu', 'fri'])
            .describe('working days: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`'),
          start: clockTime.default('09:00').describe('when the working day starts'),
          end: clockTime.default('18:00').describe('when it ends; after `start`'),
          holidays: z
            .array(z.iso.date({ error: 'expected dates as YYYY-MM-DD' }))
            .default([])
            .describe('days off, as `YYYY-MM-DD` in `timezone`'),
        })
        .refine((bh) => bh.end > bh.start, { message: 'end must be after start', path: ['end'] }),
    ])
    .prefault({})
    .describe(
      'The hours the SLA clocks run in (see [Business hours](features/sla.md#business-hours)). `business_hours: always` means around the clock.',
    ),
  sla: z
    .strictObject({
      first_response: duration
        .prefault('1h')
        .describe('business time from opening to the first reply that reached the customer'),
      next_response: duration.prefault('1h').describe("business time to answer a customer's follow-up"),
      resolution: duration.prefault('24h').describe('business time from opening to Resolve'),
      check_every: duration.prefault('30s').describe('how often the SLA sweep runs'),
      priorities: z
        .partialRecord(
          priority,
          z.strictObject({
            first_response: duration.optional(),
            next_response: duration.optional(),
            resolution: duration.optional(),
          }),
        )
        .default({})
        .describe(
          'targets per priority: `P1`, `P2`, `P3`, each with any of `first_response`, `next_response`, `resolution`; what a priority does not set comes from the three keys above (see [Priority](features/cases.md#priority))',
        ),
      release_on_breach: z
        .boolean()
        .default(true)
        .describe(
          'when the first-response deadline passes on a claimed case, unclaim it so the team can take it (see [Ownership](features/cases.md#ownership))',
        ),
      // Counted in business time.
      unclaimed_after: duration
        .nullable()
        .prefault('10m')
        .describe('nudge the care team when a case has no owner this long after opening; `null`: never'),
      response_warnings: z
        .tuple([percent, percent])
        .default([50, 80])
        .describe(
          'response clocks: a quiet note at the first percentage of the target, a mention at the second (whole numbers, 1–99)',
        ),
      resolution_warnings: z
        .array(duration)
        .prefault(['4h', '1h'])
        .describe('resolution clock: mention the owner this long before the deadline'),
      breach_escalate_to: z
        .string()
        .nullable()
        .default(null)
        .describe(
          'on a breach, escalate to this team (a key under `teams`); `null`: only mention the managers (rules with `when: sla_breach` can do more)',
        ),
      remind_outside_hours: z
        .boolean()
        .default(false)
        .describe('send reminders while business hours are closed too'),
    })
    .prefault({})
    .describe(
      'Response and resolution targets, in business time, and the reminders before they pass (see [SLA](features/sla.md#sla)).',
    ),
  stats: z
    .strictObject({
      digest_channel: slackChannelId
        .nullable()
        .default(null)
        .describe('channel (`C…` or `G…`) of the weekly digest; `null`: no digest'),
      digest_cron: z
        .string()
        .refine(
          (expr) => cron.validate(expr),
          'expected a cron expression such as "0 9 * * 1" (Mondays 09:00)',
        )
        .default('0 9 * * 1')
        .describe('node-cron expression of the digest, in `timezone` (Mondays 09:00)'),
    })
    .prefault({})
    .describe('The weekly digest (see [/care-stats](features/stats.md#care-stats)).'),
  retention: z
    .strictObject({
      customer_text: duration
        .nullable()
        .default(null)
        .describe(
          'erase what customers wrote in cases resolved longer ago than this (e.g. `400d`), every night at 03:30 in `timezone`; `null`: keep it',
        ),
    })
    .prefault({})
    .describe(
      "How long carebot keeps customers' words (see [Forget a customer](features/forget.md#retention)).",
    ),
  reply_delay: duration.prefault('10s').describe('the undo window before a reply leaves'),
  reopen_within: duration
    .prefault('7d')
    .describe(
      'a customer message this soon after a case was resolved reopens it; later ones open a follow-up case',
    ),
  tone: z
    .strictObject({
      selling: phrases.optional().meta({
        description: 'sales phrases that hold a reply; replaces the built-in list',
        default: BUILT_IN,
      }),
      jargon: phrases
        .optional()
        .meta({ description: 'jargon that holds a reply; replaces the built-in list', default: BUILT_IN }),
      arguing: phrases.optional().meta({
        description: 'arguing phrases that hold a reply; replaces the built-in list',
        default: BUILT_IN,
      }),
      extra_selling: phrases.default([]).describe('phrases added to the `selling` list'),
      extra_jargon: phrases.default([]).describe('phrases added to the `jargon` list'),
      extra_arguing: phrases.default([]).describe('phrases added to the `arguing` list'),
      max_length: z.record(z.string(), z.number().int().positive()).default({}).meta({
        description:
          "longest reply per platform or direct-message channel, in the platform's own counting; entries given here are merged over the built-in ones",
        // scripts/config-docs.ts writes out the sources' own limits.
        default: "each source's own limits",
      }),
    })
    .prefault({})
    .describe(
      'Phrases and lengths that hold a reply before it is queued (see [Tone check](features/replies.md#tone-check)).',
    ),
  care_team_usergroup: usergroupId
    .nullable()
    .default(null)
    .describe(
      'Slack user group id (`S…`) of the care team, mentioned by the unclaimed nudge and warnings on unclaimed cases; unset: everyone not in an escalation team (and no one is mentioned)',
    ),
  managers_usergroup: usergroupId
    .nullable()
    .default(null)
    .describe(
      'Slack user group id of the managers: mentioned on SLA breaches; only they may run `/care-stats`',
    ),
  teams: z
    .array(
      z
        .strictObject({
          key: z
            .string()
            .regex(/^[a-z0-9_-]+$/, 'expected a short lowercase key such as pr')
            .describe(
              'short lowercase key (letters, digits, `_`, `-`), unique: how rules, `sla.breach_escalate_to` and `crisis.mention` name the team',
            ),
          name: z.string().min(1).describe('the name agents see'),
          usergroup: usergroupId
            .optional()
            .describe('Slack user group id (`S…`) mentioned on an escalation; a team needs this or `users`'),
          users: z
            .array(userId)
            .optional()
            .describe('Slack user ids (`U…`) mentioned instead of a user group'),
          ack_within: duration
            .prefault('30m')
            .describe(
              'not acknowledged this long (wall-clock time) after an escalation: the team is mentioned again and the owner told, once',
            ),
        })
        .refine((t) => t.usergroup || t.users?.length, 'a team needs a usergroup or users to mention'),
    )
    .default([])
    .refine((teams) => new Set(teams.map((t) => t.key)).size === teams.length, 'team keys must be unique')
    .describe(
      'Escalation targets (see [Escalation, priority and ownership](features/escalation.md#escalation-priority-and-ownership)): each `{ key, name, usergroup }` or `{ key, name, users: [U…] }`, optionally with `ack_within`.',
    ),
  escalation: z
    .strictObject({
      update_every: duration
        .prefault('4h')
        .describe('while a case waits on a team, remind its owner this often to keep the customer informed'),
      rules: z
        .array(escalationRuleSchema)
        .default([])
        .describe(
          'the escalation tree: rules `when: followers` (`over`), `keywords` (`keywords`), `negative` (`below`, default `-5`) or `sla_breach`, each with a `team`, a `priority` or both (see [The escalation tree](features/escalation.md#the-escalation-tree))',
        ),
    })
    .prefault({})
    .describe('Escalating cases to `teams`, by hand and by rules.'),
  crisis: crisisSchema,
  ...workflowFileShape,
};

const slackToken = (prefix: string, what: string) =>
  z.string({ error: `missing: set it to ${what}` }).startsWith(prefix, `expected ${what}`);

/** Variables every deployment reads (the sources' own follow in envSchema). */
export const careEnvShape = {
  SLACK_BOT_TOKEN: slackToken(
    'xoxb-',
    "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page",
  ).describe('bot token (`xoxb-…`)'),
  SLACK_APP_TOKEN: slackToken(
    'xapp-',
    'an app-level token (xapp-…) with connections:write, from Basic Information',
  )
    .optional()
    .describe('app-level token (`xapp-…`, `connections:write`); when set, Socket Mode is used'),
  SLACK_SIGNING_SECRET: z
    .string()
    .min(1)
    .optional()
    .describe("verifies Slack's requests in HTTP mode; required when `SLACK_APP_TOKEN` is unset"),
  SLACK_API_URL: z
    .url({ error: 'expected the Slack Web API base URL, e.g. https://slack.com/api/' })
    .default('https://slack.com/api/')
    .transform((u) => (u.endsWith('/') ? u : `${u}/`))
    .describe('Slack Web API base URL (tests and sandboxes point it elsewhere)'),
  CARE_CHANNEL_ID: slackChannelId
    .or(z.undefined())
    .refine((v) => v !== undefined, {
      message: 'missing: set it to the id of the Slack channel where cases are posted (e.g. C0123ABCD)',
    })
    .describe('the channel where cases are posted'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL such as postgres://user@host:5432/carebot')
    .optional()
    .describe('PostgreSQL URL (`postgres://…`); unset means embedded PGlite in `DATA_DIR`'),
  DATA_DIR: z.string().min(1).default('./data').describe('folder of the embedded database'),
  PORT: z.coerce
    .number({ error: 'expected a port number' })
    .int()
    .min(0)
    .max(65535)
    .default(3000)
    .describe('HTTP port: `/healthz`, source webhooks and, in HTTP mode, `/slack/events`'),
  HTTP_MAX_CONNECTIONS: z.coerce
    .number({ error: 'expected a number of connections' })
    .int()
    .min(1, 'expected at least 1')
    .default(1000)
    .describe('connections the HTTP server holds open at once; more are closed as they arrive'),
  METRICS_TOKEN: z
    .string()
    .min(16, 'expected at least 16 characters: a random token, e.g. from `openssl rand -hex 32`')
    .optional()
    .describe(
      'when set, `GET /metrics` needs `Authorization: Bearer <token>` (16 characters or more); unset, `/metrics` is open to whoever reaches the port',
    ),
  CARE_CONFIG: z.string().optional().meta({
    description: 'config file path; a missing default file is fine, a missing named file is an error',
    default: 'carebot.config.yaml',
  }),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`; logs go to stdout'),
  LOG_FORMAT: z
    .enum(['json', 'pretty'])
    .optional()
    .describe(
      '`json` (one JSON object a line) or `pretty` (readable lines); unset: `pretty` when stdout is a terminal, `json` otherwise',
    ),
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
    /** METRICS_TOKEN: the bearer token `GET /metrics` asks for; undefined means it is open. */
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    /** LOG_FORMAT; unset means chosen by whether stdout is a terminal (src/logger.ts). */
    logFormat: e.LOG_FORMAT,
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
    retention: { customerText: f.retention.customer_text },
    tone: f.tone,
    careTeamUsergroup: f.care_team_usergroup,
    managersUsergroup: f.managers_usergroup,
    teams,
    escalation: { updateEvery: f.escalation.update_every, rules },
    crisis: resolveCrisis(f.crisis, careChannelId),
    ...resolveWorkflow(f),
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
  problems.push(...crossCheckWorkflow(f, path));
  return problems;
}
