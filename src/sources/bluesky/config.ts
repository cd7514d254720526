import { z } from 'zod';
import { duration, keywords, partlySet, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const BLUESKY_ENV = ['BLUESKY_IDENTIFIER', 'BLUESKY_APP_PASSWORD'] as const;

const account = z.strictObject({
  name: z.string().min(1).describe('how carebot calls the account in logs and messages'),
  identifier: z.string().min(1).describe("the account's handle (`acme.bsky.social`) or DID (`did:plc:…`)"),
  app_password: z
    .string()
    .min(1)
    .describe('an app password of the account (Settings → Privacy and security → App passwords)'),
  keywords: z.array(z.string().min(1, 'a keyword must not be empty')).optional().meta({
    description: 'words or phrases searched for in all public posts (besides mentions, replies and quotes)',
    default: 'sources.bluesky.keywords',
  }),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this account's cases", default: 'sources.bluesky.channel' }),
});

/** `sources.bluesky` and the `BLUESKY_*` variables (the `default` account). */
export const blueskyConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for Bluesky cases', default: 'CARE_CHANNEL_ID' }),
      poll_every: duration
        .prefault('1m')
        .describe("how often each account's notifications (and keyword searches) are read"),
      keywords: keywords.describe(
        'words or phrases searched for in all public Bluesky posts; none: only mentions, replies and quotes',
      ),
      backfill: duration
        .optional()
        .describe('first start only: also import mentions, replies, quotes and keyword posts this old'),
      accounts: z
        .array(account)
        .default([])
        .describe('Bluesky accounts besides the `default` one from `BLUESKY_*`'),
    })
    .prefault({})
    .describe(
      'Bluesky accounts: mentions of, replies and quotes to each, and keyword searches (see [Bluesky](sources/bluesky.md#bluesky)).',
    ),
  env: {
    BLUESKY_IDENTIFIER: z
      .string()
      .min(1)
      .optional()
      .describe(
        'handle or DID of the `default` Bluesky account, which is on when it and `BLUESKY_APP_PASSWORD` are set (see [Bluesky](sources/bluesky.md#bluesky))',
      ),
    BLUESKY_APP_PASSWORD: z
      .string()
      .min(1)
      .optional()
      .describe('an app password of the `default` Bluesky account (not its login password)'),
    BLUESKY_SERVICE_URL: z
      .url({ error: 'expected the Bluesky service URL, e.g. https://bsky.social' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional()
      .describe(
        "where the accounts sign in and carebot's XRPC calls go (`/xrpc/…`); unset: `https://bsky.social` (set it for an account on another PDS, tests and sandboxes)",
      ),
  },
  check: (env) => partlySet(env, BLUESKY_ENV, 'the default Bluesky account'),
  resolve: (f, e, { careChannelId }) => ({
    serviceUrl: e.BLUESKY_SERVICE_URL ?? 'https://bsky.social',
    pollEvery: f.poll_every,
    backfill: f.backfill,
    accounts: [
      ...(e.BLUESKY_IDENTIFIER && e.BLUESKY_APP_PASSWORD
        ? [{ name: 'default', identifier: e.BLUESKY_IDENTIFIER, app_password: e.BLUESKY_APP_PASSWORD }]
        : []),
      ...f.accounts,
    ].map(
      (a: {
        name: string;
        identifier: string;
        app_password: string;
        keywords?: string[];
        channel?: string;
      }) => ({
        name: a.name,
        identifier: a.identifier.replace(/^@/, ''),
        appPassword: a.app_password,
        keywords: a.keywords ?? f.keywords,
        channel: a.channel ?? f.channel ?? careChannelId,
      }),
    ),
  }),
});

export type BlueskySettings = ReturnType<typeof blueskyConfig.resolve>;
export type BlueskyAccount = BlueskySettings['accounts'][number];
