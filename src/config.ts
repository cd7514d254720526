import { existsSync, readFileSync } from 'node:fs';
import cron from 'node-cron';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Duration, parseDuration } from './care/clock.js';

/**
 * Reads the environment (secrets and deployment) and `carebot.config.yaml` (everything else).
 * A bad value stops start-up with one message that lists every problem by name and says what to
 * do. Values are never echoed back: several of them are secrets.
 */

const duration = z
  .string({ error: 'expected a duration such as 90s, 15m, 1h or 2d' })
  .transform((text, ctx) => {
    const parsed = parseDuration(text);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 15m, 1h or 2d' });
      return z.NEVER;
    }
    return parsed;
  });

const slackChannelId = z
  .string()
  .regex(/^[CG][A-Z0-9]{2,}$/, 'expected a Slack channel id such as C0123ABCD (channel details → About)');
const usergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user group id such as S0123ABCD');
const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id such as U0123ABCD');
const percent = z.number().int().min(1).max(99);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day such as 09:00');
const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const timezone = z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin or UTC');

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const webhookSourceSchema = z.looseObject({
  channel: slackChannelId.optional(),
  secret: z
    .string()
    .startsWith('whsec_', 'expected a Standard Webhooks secret starting with whsec_')
    .optional(),
  reply_url: z.url({ error: 'expected the http(s) URL that replies are POSTed to' }).optional(),
  /** Allow a reply_url on a loopback, link-local or private address (an intranet forum). */
  allow_private_network: z.boolean().optional(),
});

// Sources of later platforms keep their own keys; what every source shares is checked here.
const sourceSchema = z.looseObject({
  channel: slackChannelId.optional(),
  poll_every: duration.optional(),
});

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

const keywords = z.array(z.string().min(1, 'a keyword must not be empty')).default([]);

const xAccountSchema = z.strictObject({
  /** How people call the account, e.g. its @handle without the @. */
  name: z.string().min(1),
  user_id: z.string().regex(/^\d{1,20}$/, 'expected the numeric X user id, in quotes'),
  consumer_key: z.string().min(1),
  consumer_secret: z.string().min(1),
  access_token: z.string().min(1),
  access_secret: z.string().min(1),
  channel: slackChannelId.optional(),
  /** Brand terms searched for complaints that do not @mention the account. */
  keywords,
});

const xSourceSchema = z.strictObject({
  channel: slackChannelId.optional(),
  poll_every: duration.prefault('1m'),
  backfill: duration.optional(),
  accounts: z.array(xAccountSchema).default([]),
});

const facebookPageSchema = z.strictObject({
  name: z.string().min(1),
  page_id: z.string().regex(/^\d{1,25}$/, 'expected the numeric Page id, in quotes'),
  page_token: z.string().min(1),
  app_secret: z.string().min(1),
  verify_token: z.string().min(1),
  /** The Instagram professional account linked to the Page, if its comments should be read too. */
  instagram_account_id: z
    .string()
    .regex(/^\d{1,25}$/, 'expected the numeric Instagram account id')
    .optional(),
  channel: slackChannelId.optional(),
});

const facebookSourceSchema = z.strictObject({
  channel: slackChannelId.optional(),
  /** Graph API version in request paths. */
  api_version: z
    .string()
    .regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v21.0')
    .default('v21.0'),
  /** Poll the Page feed too, for when webhooks cannot reach carebot; null: webhooks only. */
  poll_every: duration.nullable().prefault(null),
  pages: z.array(facebookPageSchema).default([]),
});

const instagramSourceSchema = z.strictObject({
  channel: slackChannelId.optional(),
});

const redditAccountSchema = z.strictObject({
  name: z.string().min(1),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  username: z.string().min(1),
  password: z.string().min(1),
  subreddits: z
    .array(z.string().regex(/^[A-Za-z0-9_]{2,21}$/, 'expected a subreddit name without r/'))
    .default([]),
  keywords,
  channel: slackChannelId.optional(),
});

const redditSourceSchema = z.strictObject({
  channel: slackChannelId.optional(),
  poll_every: duration.prefault('2m'),
  backfill: duration.optional(),
  accounts: z.array(redditAccountSchema).default([]),
});

const rssSourceSchema = z.strictObject({
  channel: slackChannelId.optional(),
  poll_every: duration.prefault('5m'),
  backfill: duration.optional(),
  /** Allow feeds on loopback, link-local or private addresses (intranet forums); each feed may say otherwise. */
  allow_private_network: z.boolean().default(false),
  feeds: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, 'expected a short name such as forum'),
        url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of an RSS or Atom feed' }),
        /** Only items mentioning one of these become cases; none means every item. */
        keywords,
        channel: slackChannelId.optional(),
        allow_private_network: z.boolean().optional(),
      }),
    )
    .default([])
    .refine((feeds) => new Set(feeds.map((f) => f.name)).size === feeds.length, 'feed names must be unique'),
});

/** Who a crisis alert mentions: a team's key (e.g. pr), a Slack user group (S…) or a user (U…). */
const mentionTarget = z
  .string()
  .regex(
    /^([SUW][A-Z0-9]{2,}|[a-z0-9_-]+)$/,
    'expected a team key (such as pr), a Slack user group id (S…) or a user id (U…)',
  );

const crisisSchema = z
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

export const fileSchema = z.strictObject({
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
  sources: z
    .looseObject({
      webhook: webhookSourceSchema.prefault({}),
      x: xSourceSchema.prefault({}),
      rss: rssSourceSchema.prefault({}),
      facebook: facebookSourceSchema.prefault({}),
      instagram: instagramSourceSchema.prefault({}),
      reddit: redditSourceSchema.prefault({}),
    })
    .catchall(sourceSchema)
    .prefault({}),
});

const slackToken = (prefix: string, what: string) =>
  z.string({ error: `missing: set it to ${what}` }).startsWith(prefix, `expected ${what}`);

export const envSchema = z.object({
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
  CARE_WEBHOOK_SECRET: z
    .string()
    .startsWith('whsec_', 'expected a Standard Webhooks secret starting with whsec_')
    .optional(),
  CARE_WEBHOOK_REPLY_URL: z
    .url({ error: 'expected the http(s) URL that webhook replies are POSTed to' })
    .optional(),
  /** `true`: CARE_WEBHOOK_REPLY_URL may be on a loopback, link-local or private address. */
  CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .transform((v) => v === 'true')
    .optional(),
  X_USER_ID: z
    .string()
    .regex(/^\d{1,20}$/, 'expected the numeric X user id of the account')
    .optional(),
  X_CONSUMER_KEY: z.string().min(1).optional(),
  X_CONSUMER_SECRET: z.string().min(1).optional(),
  X_ACCESS_TOKEN: z.string().min(1).optional(),
  X_ACCESS_SECRET: z.string().min(1).optional(),
  X_API_URL: z
    .url({ error: 'expected the X API base URL, e.g. https://api.x.com' })
    .default('https://api.x.com')
    .transform((u) => u.replace(/\/+$/, '')),
  FACEBOOK_PAGE_ID: z
    .string()
    .regex(/^\d{1,25}$/, 'expected the numeric Page id')
    .optional(),
  FACEBOOK_PAGE_TOKEN: z.string().min(1).optional(),
  FACEBOOK_APP_SECRET: z.string().min(1).optional(),
  FACEBOOK_VERIFY_TOKEN: z.string().min(1).optional(),
  INSTAGRAM_ACCOUNT_ID: z
    .string()
    .regex(/^\d{1,25}$/, 'expected the numeric Instagram account id')
    .optional(),
  GRAPH_API_URL: z
    .url({ error: 'expected the Graph API base URL, e.g. https://graph.facebook.com' })
    .default('https://graph.facebook.com')
    .transform((u) => u.replace(/\/+$/, '')),
  REDDIT_CLIENT_ID: z.string().min(1).optional(),
  REDDIT_CLIENT_SECRET: z.string().min(1).optional(),
  REDDIT_USERNAME: z.string().min(1).optional(),
  REDDIT_PASSWORD: z.string().min(1).optional(),
  /** Unset: the real API (oauth.reddit.com) and token endpoint (www.reddit.com); set: both at this URL. */
  REDDIT_API_URL: z
    .url({ error: 'expected the Reddit API base URL, e.g. https://oauth.reddit.com' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.output<typeof envSchema>;
export type FileConfig = z.output<typeof fileSchema>;

export interface Team {
  key: string;
  name: string;
  usergroup?: string | undefined;
  users?: string[] | undefined;
  ackWithin?: Duration | undefined;
}

export type Priority = 'P1' | 'P2' | 'P3';

export type EscalationRule = FileConfig['escalation']['rules'][number];

export interface WebhookSourceConfig {
  secret: string | undefined;
  replyUrl: string | undefined;
  /** The reply URL may be on a loopback, link-local or private address. */
  allowPrivateNetwork: boolean;
  channel: string;
}

/** Everything carebot runs on, resolved: secrets and deployment from the environment, the rest from the file. */
export interface Config {
  slack: {
    botToken: string;
    appToken: string | undefined;
    signingSecret: string | undefined;
    apiUrl: string;
  };
  careChannelId: string;
  database: { url: string } | { dataDir: string };
  port: number;
  /** HTTP_MAX_CONNECTIONS: connections the HTTP server holds open at once. */
  maxConnections: number;
  logLevel: Env['LOG_LEVEL'];
  timezone: string;
  businessHours: FileConfig['business_hours'];
  sla: {
    firstResponse: Duration;
    nextResponse: Duration;
    resolution: Duration;
    checkEvery: Duration;
    unclaimedAfter: Duration | null;
    responseWarnings: [number, number];
    resolutionWarnings: Duration[];
    breachEscalateTo: string | null;
    remindOutsideHours: boolean;
    priorities: Partial<
      Record<Priority, { firstResponse?: Duration; nextResponse?: Duration; resolution?: Duration }>
    >;
    releaseOnBreach: boolean;
  };
  replyDelay: Duration;
  stats: { digestChannel: string | null; digestCron: string };
  reopenWithin: Duration;
  tone: FileConfig['tone'];
  careTeamUsergroup: string | null;
  managersUsergroup: string | null;
  teams: Team[];
  escalation: { updateEvery: Duration; rules: EscalationRule[] };
  crisis: CrisisConfig;
  sources: SourcesConfig;
}

/** Crisis watch, crisis mode and incidents (see care/crisis.ts and care/incidents.ts). */
export interface CrisisConfig {
  watch: boolean;
  /** Alerts and incident threads. */
  channelId: string;
  mention: string[];
  checkEvery: Duration;
  window: Duration;
  factor: number;
  minCount: number;
  baselineWeeks: number;
  calmAfter: Duration;
  cluster: { minCases: number; minTerms: number; lift: number };
  modeOnAlert: boolean;
  sla: { firstResponse: Duration | null; nextResponse: Duration | null; resolution: Duration | null };
  statementPerMinute: number;
  linkLookback: Duration;
}

export interface XAccount {
  name: string;
  userId: string;
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessSecret: string;
  channel: string;
  keywords: string[];
}

export interface RssFeed {
  name: string;
  url: string;
  /** The feed may be on a loopback, link-local or private address. */
  allowPrivateNetwork: boolean;
  keywords: string[];
  channel: string;
}

export interface FacebookPage {
  name: string;
  pageId: string;
  pageToken: string;
  appSecret: string;
  verifyToken: string;
  instagramAccountId: string | undefined;
  channel: string;
}

export interface RedditAccount {
  name: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  subreddits: string[];
  keywords: string[];
  channel: string;
}

export interface SourcesConfig {
  webhook: WebhookSourceConfig;
  x: { apiUrl: string; pollEvery: Duration; backfill: Duration | undefined; accounts: XAccount[] };
  rss: { pollEvery: Duration; backfill: Duration | undefined; feeds: RssFeed[] };
  facebook: { apiUrl: string; apiVersion: string; pollEvery: Duration | null; pages: FacebookPage[] };
  /** Channel for Instagram cases (default: the Page's channel). */
  instagram: { channel: string | undefined };
  reddit: {
    apiUrl: string;
    authUrl: string;
    pollEvery: Duration;
    backfill: Duration | undefined;
    accounts: RedditAccount[];
  };
  raw: FileConfig['sources'];
}

const FACEBOOK_ENV = [
  'FACEBOOK_PAGE_ID',
  'FACEBOOK_PAGE_TOKEN',
  'FACEBOOK_APP_SECRET',
  'FACEBOOK_VERIFY_TOKEN',
] as const;
const REDDIT_ENV = [
  'REDDIT_CLIENT_ID',
  'REDDIT_CLIENT_SECRET',
  'REDDIT_USERNAME',
  'REDDIT_PASSWORD',
] as const;

const X_ENV = [
  'X_USER_ID',
  'X_CONSUMER_KEY',
  'X_CONSUMER_SECRET',
  'X_ACCESS_TOKEN',
  'X_ACCESS_SECRET',
] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`carebot cannot start; fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_CONFIG_PATH = 'carebot.config.yaml';

/**
 * The environment with empty (or blank) values dropped: `NAME=` in a .env copied from .env.example
 * means unset, everywhere (a left-empty SLACK_SIGNING_SECRET must not stop Socket Mode).
 */
export function setVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') set[name] = value;
  }
  return set;
}

/** Loads and checks the whole configuration, or throws one ConfigError naming every problem. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const env = setVariables(environment);
  const problems: string[] = [];
  const envResult = envSchema.safeParse(env);
  if (!envResult.success) problems.push(...describeIssues(envResult.error.issues));
  // Checked by hand so it is reported together with the other problems, not only once they are fixed.
  // The default X account is on when its credentials are present: all five, or a clear message.
  for (const [group, what] of [
    [X_ENV, 'the default X account'],
    [FACEBOOK_ENV, 'the default Facebook Page'],
    [REDDIT_ENV, 'the default Reddit account'],
  ] as const) {
    const set = group.filter((name) => env[name]);
    if (set.length > 0 && set.length < group.length) {
      for (const name of group.filter((n) => !env[n])) {
        problems.push(`${name}: missing: ${what} needs all of ${group.join(', ')}`);
      }
    }
  }
  if (env.INSTAGRAM_ACCOUNT_ID && !env.FACEBOOK_PAGE_ID) {
    problems.push(
      'INSTAGRAM_ACCOUNT_ID: needs the Facebook Page it is linked to (FACEBOOK_PAGE_ID and the rest)',
    );
  }
  if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
    problems.push(
      'SLACK_SIGNING_SECRET: missing: set SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET (Basic Information → Signing Secret) for HTTP mode',
    );
  }

  const path = env.CARE_CONFIG ?? DEFAULT_CONFIG_PATH;
  let raw: unknown = {};
  if (existsSync(path)) {
    try {
      raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
      raw = substituteEnv(raw, env, [], problems);
    } catch (err) {
      problems.push(`${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
  } else if (env.CARE_CONFIG) {
    problems.push(`CARE_CONFIG: the file ${path} does not exist`);
  }
  const fileResult = fileSchema.safeParse(raw);
  if (!fileResult.success) problems.push(...describeIssues(fileResult.error.issues, `${path}: `));

  if (fileResult.success) {
    for (const [i, rule] of fileResult.data.escalation.rules.entries()) {
      if (rule.team && !fileResult.data.teams.some((t) => t.key === rule.team)) {
        problems.push(
          `${path}: escalation.rules.${i}.team: no team has the key ${rule.team}; add it under teams`,
        );
      }
    }
    for (const [i, target] of fileResult.data.crisis.mention.entries()) {
      if (/^[a-z0-9_-]+$/.test(target) && !fileResult.data.teams.some((t) => t.key === target)) {
        problems.push(`${path}: crisis.mention.${i}: no team has the key ${target}; add it under teams`);
      }
    }
    const breachTeam = fileResult.data.sla.breach_escalate_to;
    if (breachTeam && !fileResult.data.teams.some((t) => t.key === breachTeam)) {
      problems.push(`${path}: sla.breach_escalate_to: no team has the key ${breachTeam}; add it under teams`);
    }
  }
  if (!envResult.success || !fileResult.success || problems.length > 0) throw new ConfigError(problems);
  const e = envResult.data;
  const f = fileResult.data;
  const careChannelId = e.CARE_CHANNEL_ID as string;
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
      ),
      releaseOnBreach: f.sla.release_on_breach,
    },
    replyDelay: f.reply_delay,
    stats: { digestChannel: f.stats.digest_channel, digestCron: f.stats.digest_cron },
    reopenWithin: f.reopen_within,
    tone: f.tone,
    careTeamUsergroup: f.care_team_usergroup,
    managersUsergroup: f.managers_usergroup,
    teams: f.teams.map((t) => ({
      key: t.key,
      name: t.name,
      usergroup: t.usergroup,
      users: t.users,
      ackWithin: t.ack_within,
    })),
    escalation: { updateEvery: f.escalation.update_every, rules: f.escalation.rules },
    crisis: {
      watch: f.crisis.watch,
      channelId: f.crisis.channel ?? careChannelId,
      mention: f.crisis.mention,
      checkEvery: f.crisis.check_every,
      window: f.crisis.window,
      factor: f.crisis.factor,
      minCount: f.crisis.min_count,
      baselineWeeks: f.crisis.baseline_weeks,
      calmAfter: f.crisis.calm_after,
      cluster: {
        minCases: f.crisis.cluster.min_cases,
        minTerms: f.crisis.cluster.min_terms,
        lift: f.crisis.cluster.lift,
      },
      modeOnAlert: f.crisis.mode_on_alert,
      sla: {
        firstResponse: f.crisis.sla.first_response,
        nextResponse: f.crisis.sla.next_response,
        resolution: f.crisis.sla.resolution,
      },
      statementPerMinute: f.crisis.statement_per_minute,
      linkLookback: f.crisis.link_lookback,
    },
    sources: {
      webhook: {
        secret: f.sources.webhook.secret ?? e.CARE_WEBHOOK_SECRET,
        replyUrl: f.sources.webhook.reply_url ?? e.CARE_WEBHOOK_REPLY_URL,
        allowPrivateNetwork:
          f.sources.webhook.allow_private_network ?? e.CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK ?? false,
        channel: f.sources.webhook.channel ?? careChannelId,
      },
      x: {
        apiUrl: e.X_API_URL,
        pollEvery: f.sources.x.poll_every,
        backfill: f.sources.x.backfill,
        accounts: [
          ...(e.X_USER_ID && e.X_CONSUMER_KEY && e.X_CONSUMER_SECRET && e.X_ACCESS_TOKEN && e.X_ACCESS_SECRET
            ? [
                {
                  name: 'default',
                  user_id: e.X_USER_ID,
                  consumer_key: e.X_CONSUMER_KEY,
                  consumer_secret: e.X_CONSUMER_SECRET,
                  access_token: e.X_ACCESS_TOKEN,
                  access_secret: e.X_ACCESS_SECRET,
                  keywords: [],
                  channel: undefined,
                },
              ]
            : []),
          ...f.sources.x.accounts,
        ].map((a) => ({
          name: a.name,
          userId: a.user_id,
          consumerKey: a.consumer_key,
          consumerSecret: a.consumer_secret,
          accessToken: a.access_token,
          accessSecret: a.access_secret,
          channel: a.channel ?? f.sources.x.channel ?? careChannelId,
          keywords: a.keywords,
        })),
      },
      rss: {
        pollEvery: f.sources.rss.poll_every,
        backfill: f.sources.rss.backfill,
        feeds: f.sources.rss.feeds.map((feed) => ({
          name: feed.name,
          url: feed.url,
          allowPrivateNetwork: feed.allow_private_network ?? f.sources.rss.allow_private_network,
          keywords: feed.keywords,
          channel: feed.channel ?? f.sources.rss.channel ?? careChannelId,
        })),
      },
      facebook: {
        apiUrl: e.GRAPH_API_URL,
        apiVersion: f.sources.facebook.api_version,
        pollEvery: f.sources.facebook.poll_every,
        pages: [
          ...(e.FACEBOOK_PAGE_ID && e.FACEBOOK_PAGE_TOKEN && e.FACEBOOK_APP_SECRET && e.FACEBOOK_VERIFY_TOKEN
            ? [
                {
                  name: 'default',
                  page_id: e.FACEBOOK_PAGE_ID,
                  page_token: e.FACEBOOK_PAGE_TOKEN,
                  app_secret: e.FACEBOOK_APP_SECRET,
                  verify_token: e.FACEBOOK_VERIFY_TOKEN,
                  instagram_account_id: e.INSTAGRAM_ACCOUNT_ID,
                  channel: undefined,
                },
              ]
            : []),
          ...f.sources.facebook.pages,
        ].map((p) => ({
          name: p.name,
          pageId: p.page_id,
          pageToken: p.page_token,
          appSecret: p.app_secret,
          verifyToken: p.verify_token,
          instagramAccountId: p.instagram_account_id,
          channel: p.channel ?? f.sources.facebook.channel ?? careChannelId,
        })),
      },
      instagram: { channel: f.sources.instagram.channel },
      reddit: {
        apiUrl: e.REDDIT_API_URL ?? 'https://oauth.reddit.com',
        authUrl: e.REDDIT_API_URL ?? 'https://www.reddit.com',
        pollEvery: f.sources.reddit.poll_every,
        backfill: f.sources.reddit.backfill,
        accounts: [
          ...(e.REDDIT_CLIENT_ID && e.REDDIT_CLIENT_SECRET && e.REDDIT_USERNAME && e.REDDIT_PASSWORD
            ? [
                {
                  name: 'default',
                  client_id: e.REDDIT_CLIENT_ID,
                  client_secret: e.REDDIT_CLIENT_SECRET,
                  username: e.REDDIT_USERNAME,
                  password: e.REDDIT_PASSWORD,
                  subreddits: [],
                  keywords: [],
                  channel: undefined,
                },
              ]
            : []),
          ...f.sources.reddit.accounts,
        ].map((a) => ({
          name: a.name,
          clientId: a.client_id,
          clientSecret: a.client_secret,
          username: a.username,
          password: a.password,
          subreddits: a.subreddits,
          keywords: a.keywords,
          channel: a.channel ?? f.sources.reddit.channel ?? careChannelId,
        })),
      },
      raw: f.sources,
    },
  };
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const name = issue.path.length ? issue.path.join('.') : '(top level)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys')
      message = `unknown key(s) ${issue.keys.join(', ')}: check the spelling`;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'missing';
    return `${prefix}${name}: ${message}`;
  });
}

/** Replaces `${VAR}` in the file's string values with the environment's value. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push(`${path.join('.')}: \${${name}} is not set in the environment`);
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, String(i)], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], problems)]),
    );
  }
  return value;
}
