import { z } from 'zod';
import { duration, keywords, partlySet, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const REDDIT_ENV = [
  'REDDIT_CLIENT_ID',
  'REDDIT_CLIENT_SECRET',
  'REDDIT_USERNAME',
  'REDDIT_PASSWORD',
] as const;

const account = z.strictObject({
  name: z.string().min(1).describe('how carebot calls the account in logs and messages'),
  client_id: z.string().min(1).describe("the script app's client id"),
  client_secret: z.string().min(1).describe("the script app's secret"),
  username: z.string().min(1).describe("the account's username"),
  password: z.string().min(1).describe("the account's password"),
  subreddits: z
    .array(z.string().regex(/^[A-Za-z0-9_]{2,21}$/, 'expected a subreddit name without r/'))
    .default([])
    .describe('subreddits whose new posts and comments are read, without `r/`'),
  keywords: keywords.describe(
    'only posts and comments naming one of these become cases; none: everything in those subreddits',
  ),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this account's cases", default: 'sources.reddit.channel' }),
});

/** `sources.reddit` and the `REDDIT_*` variables (the `default` account). */
export const redditConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for Reddit cases', default: 'CARE_CHANNEL_ID' }),
      poll_every: duration.prefault('2m').describe('how often subreddits and inboxes are read'),
      backfill: duration.optional().describe('first start only: also import posts and comments this old'),
      accounts: z
        .array(account)
        .default([])
        .describe('Reddit accounts besides the `default` one from `REDDIT_*`'),
    })
    .prefault({})
    .describe(
      'Reddit accounts: their inbox, and new posts and comments in subreddits (see [Reddit](sources/reddit.md#reddit)).',
    ),
  env: {
    REDDIT_CLIENT_ID: z
      .string()
      .min(1)
      .optional()
      .describe(
        'client id of the script app of the `default` Reddit account, which is on when all four `REDDIT_*` credentials are set (all four or none; see [Reddit](sources/reddit.md#reddit))',
      ),
    REDDIT_CLIENT_SECRET: z
      .string()
      .min(1)
      .optional()
      .describe("the script app's secret, for the `default` account"),
    REDDIT_USERNAME: z.string().min(1).optional().describe("the `default` account's username"),
    REDDIT_PASSWORD: z.string().min(1).optional().describe("the `default` account's password"),
    REDDIT_API_URL: z
      .url({ error: 'expected the Reddit API base URL, e.g. https://oauth.reddit.com' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional()
      .describe(
        'unset: the real API (tokens from `https://www.reddit.com`, the rest from `https://oauth.reddit.com`); set: both at this URL (tests and sandboxes)',
      ),
  },
  check: (env) => partlySet(env, REDDIT_ENV, 'the default Reddit account'),
  resolve: (f, e, { careChannelId }) => ({
    apiUrl: e.REDDIT_API_URL ?? 'https://oauth.reddit.com',
    authUrl: e.REDDIT_API_URL ?? 'https://www.reddit.com',
    pollEvery: f.poll_every,
    backfill: f.backfill,
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
      ...f.accounts,
    ].map((a) => ({
      name: a.name,
      clientId: a.client_id,
      clientSecret: a.client_secret,
      username: a.username,
      password: a.password,
      subreddits: a.subreddits,
      keywords: a.keywords,
      channel: a.channel ?? f.channel ?? careChannelId,
    })),
  }),
});

export type RedditSettings = ReturnType<typeof redditConfig.resolve>;
export type RedditAccount = RedditSettings['accounts'][number];
