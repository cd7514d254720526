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

/** `sources.reddit`: Reddit accounts (their inbox, and new posts and comments in subreddits). */
export const redditConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId.optional(),
      poll_every: duration.prefault('2m'),
      backfill: duration.optional(),
      accounts: z.array(account).default([]),
    })
    .prefault({}),
  env: {
    REDDIT_CLIENT_ID: z.string().min(1).optional(),
    REDDIT_CLIENT_SECRET: z.string().min(1).optional(),
    REDDIT_USERNAME: z.string().min(1).optional(),
    REDDIT_PASSWORD: z.string().min(1).optional(),
    REDDIT_API_URL: z
      .url({ error: 'expected the Reddit API base URL, e.g. https://oauth.reddit.com' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional()
      .describe(
        'Unset: the real API (oauth.reddit.com) and token endpoint (www.reddit.com); set: both at this URL.',
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
