import { z } from 'zod';
import { duration, partlySet, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const MASTODON_ENV = ['MASTODON_URL', 'MASTODON_ACCESS_TOKEN'] as const;

/** An instance's address: the API is under it (`/api/v1/…`), so a trailing slash is dropped. */
const instanceUrl = z
  .url({ error: 'expected the address of the Mastodon instance, e.g. https://mastodon.social' })
  .transform((u) => u.replace(/\/+$/, ''));

const account = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a short name of letters, digits, `_`, `.` or `-`')
    .describe(
      "how carebot calls the account in logs, messages and `/care-stats`; it is part of the account's cases' key, so keep it once cases came in",
    ),
  url: instanceUrl.describe('the instance the account is on, e.g. `https://mastodon.social`'),
  access_token: z
    .string()
    .min(1)
    .describe(
      "the account's access token (Preferences → Development → an application with `read` and `write:statuses`)",
    ),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this account's cases", default: 'sources.mastodon.channel' }),
});

/** `sources.mastodon` and the `MASTODON_*` variables (the `default` account). */
export const mastodonConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for Mastodon cases', default: 'CARE_CHANNEL_ID' }),
      poll_every: duration.prefault('1m').describe("how often each account's mentions are read"),
      backfill: duration
        .optional()
        .describe('first start only: also import mentions this old (default: none from before the start)'),
      accounts: z
        .array(account)
        .default([])
        .describe('Mastodon accounts besides the `default` one from `MASTODON_*`'),
    })
    .superRefine((f, ctx) => {
      const names = new Set<string>();
      for (const [i, a] of f.accounts.entries()) {
        if (a.name === 'default' || names.has(a.name))
          ctx.addIssue({
            code: 'custom',
            path: ['accounts', i, 'name'],
            message: `the name "${a.name}" is taken: each account needs its own (\`default\` is the MASTODON_* one)`,
          });
        names.add(a.name);
      }
    })
    .prefault({})
    .describe(
      'Mastodon accounts: mentions of them, public and direct (see [Mastodon](sources/mastodon.md#mastodon)).',
    ),
  env: {
    MASTODON_URL: instanceUrl
      .optional()
      .describe(
        'instance of the `default` Mastodon account, also its API base; on with `MASTODON_ACCESS_TOKEN` (both or none; see [Mastodon](sources/mastodon.md#mastodon))',
      ),
    MASTODON_ACCESS_TOKEN: z
      .string()
      .min(1)
      .optional()
      .describe("the `default` Mastodon account's access token"),
  },
  check: (env) => partlySet(env, MASTODON_ENV, 'the default Mastodon account'),
  resolve: (f, e, { careChannelId }) => ({
    pollEvery: f.poll_every,
    backfill: f.backfill,
    accounts: [
      ...(e.MASTODON_URL && e.MASTODON_ACCESS_TOKEN
        ? [
            {
              name: 'default',
              url: e.MASTODON_URL,
              access_token: e.MASTODON_ACCESS_TOKEN,
              channel: undefined,
            },
          ]
        : []),
      ...f.accounts,
    ].map((a) => ({
      name: a.name,
      url: a.url,
      accessToken: a.access_token,
      channel: a.channel ?? f.channel ?? careChannelId,
    })),
  }),
});

export type MastodonSettings = ReturnType<typeof mastodonConfig.resolve>;
export type MastodonAccount = MastodonSettings['accounts'][number];
