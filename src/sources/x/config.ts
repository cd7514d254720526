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
  name: z.string().min(1).describe('how people call the account, e.g. its @handle without the @'),
  user_id: z
    .string()
    .regex(/^\d{1,20}$/, 'expected the numeric X user id, in quotes')
    .describe('numeric X user id of the account, in quotes'),
  consumer_key: z.string().min(1).describe("the X app's API key"),
  consumer_secret: z.string().min(1).describe("the X app's API key secret"),
  access_token: z.string().min(1).describe("the account's access token"),
  access_secret: z.string().min(1).describe("the account's access token secret"),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this account's cases", default: 'sources.x.channel' }),
  keywords: keywords.describe('brand terms searched for complaints that do not @mention the account'),
});

/** `sources.x` and the `X_*` variables (the `default` account). */
export const xConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId.optional().meta({
        description: 'channel for X cases (see [Channels](sources/README.md#channels))',
        default: 'CARE_CHANNEL_ID',
      }),
      poll_every: duration.prefault('1m').describe('how often mentions and keyword searches are polled'),
      backfill: duration
        .optional()
        .describe('first start only: also import posts this old (keyword search: at most 7 days)'),
      accounts: z.array(account).default([]).describe('X accounts besides the `default` one from `X_*`'),
    })
    .prefault({})
    .describe(
      'X accounts: mentions, keyword search, and direct messages through the Account Activity webhook (see [X](sources/x.md#x)).',
    ),
  env: {
    X_USER_ID: z
      .string()
      .regex(/^\d{1,20}$/, 'expected the numeric X user id of the account')
      .optional()
      .describe(
        'numeric user id of the `default` X account, which is on when all five `X_*` credentials are set (all five or none; see [X](sources/x.md#x))',
      ),
    X_CONSUMER_KEY: z.string().min(1).optional().describe("the X app's API key, for the `default` account"),
    X_CONSUMER_SECRET: z
      .string()
      .min(1)
      .optional()
      .describe("the X app's API key secret, for the `default` account"),
    X_ACCESS_TOKEN: z.string().min(1).optional().describe("the `default` account's access token"),
    X_ACCESS_SECRET: z.string().min(1).optional().describe("the `default` account's access token secret"),
    X_API_URL: z
      .url({ error: 'expected the X API base URL, e.g. https://api.x.com' })
      .default('https://api.x.com')
      .transform((u) => u.replace(/\/+$/, ''))
      .describe('X API base URL (tests and sandboxes point it elsewhere)'),
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
