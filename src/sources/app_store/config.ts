import { z } from 'zod';
import { duration, partlySet, priorityByRating, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const APP_STORE_ENV = [
  'APP_STORE_ISSUER_ID',
  'APP_STORE_KEY_ID',
  'APP_STORE_PRIVATE_KEY',
  'APP_STORE_APP_ID',
] as const;

const appId = z.string().regex(/^\d+$/, "expected the app's Apple ID, digits only, e.g. 1234567890");

const account = z.strictObject({
  name: z.string().min(1).describe('how carebot calls the app in logs and messages'),
  issuer_id: z.string().min(1).describe('the issuer id shown above the keys in App Store Connect'),
  key_id: z.string().min(1).describe("the API key's id"),
  private_key: z
    .string()
    .min(1)
    .describe("the API key's .p8 file: its text (`-----BEGIN PRIVATE KEY-----…`) or the path to it"),
  app_id: appId.describe("the app's Apple ID (App Information → Apple ID)"),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this app's reviews", default: 'sources.app_store.channel' }),
});

/** `sources.app_store` and the `APP_STORE_*` variables (the `default` app). */
export const appStoreConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for App Store review cases', default: 'CARE_CHANNEL_ID' }),
      poll_every: duration.prefault('5m').describe('how often new customer reviews are read'),
      priority_by_rating: priorityByRating,
      backfill: duration.optional().describe('first start only: also import reviews this old'),
      accounts: z
        .array(account)
        .default([])
        .describe('apps (or App Store Connect keys) besides the `default` one from `APP_STORE_*`'),
    })
    .prefault({})
    .describe(
      "App Store customer reviews of your apps, answered with App Store Connect's responses (see [App Store](sources/app_store.md#app-store)).",
    ),
  env: {
    APP_STORE_ISSUER_ID: z
      .string()
      .min(1)
      .optional()
      .describe(
        'issuer id of the App Store Connect API key of the `default` app, which is on when all four `APP_STORE_*` credentials are set (all four or none; see [App Store](sources/app_store.md#app-store))',
      ),
    APP_STORE_KEY_ID: z.string().min(1).optional().describe("the API key's id, for the `default` app"),
    APP_STORE_PRIVATE_KEY: z
      .string()
      .min(1)
      .optional()
      .describe("the API key's .p8 file: its text, or the path to it"),
    APP_STORE_APP_ID: appId.optional().describe("the `default` app's Apple ID (digits)"),
    APP_STORE_API_URL: z
      .url({
        error: 'expected the App Store Connect API base URL, e.g. https://api.appstoreconnect.apple.com',
      })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional()
      .describe(
        'App Store Connect API base URL, default `https://api.appstoreconnect.apple.com` (tests and sandboxes point it elsewhere)',
      ),
  },
  check: (env) => partlySet(env, APP_STORE_ENV, 'the default App Store app'),
  resolve: (f, e, { careChannelId }) => ({
    apiUrl: e.APP_STORE_API_URL ?? 'https://api.appstoreconnect.apple.com',
    pollEvery: f.poll_every,
    backfill: f.backfill,
    priorityByRating: f.priority_by_rating,
    accounts: [
      ...(e.APP_STORE_ISSUER_ID && e.APP_STORE_KEY_ID && e.APP_STORE_PRIVATE_KEY && e.APP_STORE_APP_ID
        ? [
            {
              name: 'default',
              issuer_id: e.APP_STORE_ISSUER_ID,
              key_id: e.APP_STORE_KEY_ID,
              private_key: e.APP_STORE_PRIVATE_KEY,
              app_id: e.APP_STORE_APP_ID,
              channel: undefined,
            },
          ]
        : []),
      ...f.accounts,
    ].map((a) => ({
      name: a.name,
      issuerId: a.issuer_id,
      keyId: a.key_id,
      privateKey: a.private_key,
      appId: a.app_id,
      channel: a.channel ?? f.channel ?? careChannelId,
    })),
  }),
});

export type AppStoreSettings = ReturnType<typeof appStoreConfig.resolve>;
export type AppStoreAccount = AppStoreSettings['accounts'][number];
