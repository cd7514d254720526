import { z } from 'zod';
import { duration, keywords, partlySet, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const X_ENV = [
  'X_USER_ID',
  'X_CONSUMER_KEY',
  'X_CONSUMER_SECRET',
  'X_ACCESS_TOKEN',
  'X_ACCESS_SECRET',
] as const;

const account = z.strictObject({
  name: z.string().min(1).describe('How people call the account, e.g. its @handle without the @.'),
  user_id: z.string().regex(/^\d{1,20}$/, 'expected the numeric X user id, in quotes'),
  consumer_key: z.string().min(1),
  consumer_secret: z.string().min(1),
  access_token: z.string().min(1),
  access_secret: z.string().min(1),
  channel: slackChannelId.optional(),
  keywords: keywords.describe('Brand terms searched for complaints that do not @mention the account.'),
});

/** `sources.x`: X accounts (mentions, keyword search, DMs through the Account Activity webhook). */
export const xConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId.optional(),
      poll_every: duration.prefault('1m'),
      backfill: duration.optional(),
      accounts: z.array(account).default([]),
    })
    .prefault({}),
  env: {
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
  },
  // The default X account is on when its credentials are present: all five, or a clear message.
  check: (env) => partlySet(env, X_ENV, 'the default X account'),
  resolve: (f, e, { careChannelId }) => ({
    apiUrl: e.X_API_URL,
    pollEvery: f.poll_every,
    backfill: f.backfill,
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
      ...f.accounts,
    ].map((a) => ({
      name: a.name,
      userId: a.user_id,
      consumerKey: a.consumer_key,
      consumerSecret: a.consumer_secret,
      accessToken: a.access_token,
      accessSecret: a.access_secret,
      channel: a.channel ?? f.channel ?? careChannelId,
      keywords: a.keywords,
    })),
  }),
});

export type XSettings = ReturnType<typeof xConfig.resolve>;
export type XAccount = XSettings['accounts'][number];
