import { z } from 'zod';
import { duration, priorityByRating, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

/** Google's rule for application ids: dot-separated parts, each starting with a letter. */
const packageName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/,
    'expected an Android package name such as com.example.app',
  );

const account = z.strictObject({
  name: z.string().min(1).describe('how carebot calls the app in logs and messages'),
  package_name: packageName.describe("the app's package name, e.g. `com.example.app`"),
  credentials_file: z
    .string()
    .min(1)
    .describe("path to the service account's JSON key file (read when carebot signs in)"),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this app's reviews", default: 'sources.google_play.channel' }),
  // Without the shared default, so an app without its own map takes the section's.
  priority_by_rating: priorityByRating.unwrap().optional().meta({
    description: "this app's priority by star rating",
    default: 'sources.google_play.priority_by_rating',
  }),
});

/** `sources.google_play` and the `GOOGLE_PLAY_*` variables (the `default` app). */
export const googlePlayConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for Google Play reviews', default: 'CARE_CHANNEL_ID' }),
      poll_every: duration.prefault('5m').describe('how often each app’s reviews are read'),
      backfill: duration
        .optional()
        .describe(
          'first start only: also import reviews written or edited this long ago (Google lists at most the last 7 days)',
        ),
      priority_by_rating: priorityByRating,
      accounts: z
        .array(account)
        .default([])
        .describe('apps besides the `default` one from `GOOGLE_PLAY_PACKAGE_NAME`'),
    })
    .prefault({})
    .describe(
      'Google Play apps: their reviews, answered with a developer reply (see [Google Play](sources/google_play.md#google-play)).',
    ),
  env: {
    GOOGLE_PLAY_PACKAGE_NAME: packageName
      .optional()
      .describe(
        'package name of the `default` Google Play app, which is on when this and `GOOGLE_APPLICATION_CREDENTIALS` are set (see [Google Play](sources/google_play.md#google-play))',
      ),
    GOOGLE_APPLICATION_CREDENTIALS: z
      .string()
      .min(1)
      .optional()
      .describe(
        "path to the JSON key file of the service account that reads and answers the `default` app's reviews (its `token_uri` is honoured)",
      ),
    GOOGLE_PLAY_API_URL: z
      .url({
        error: 'expected the Android Publisher API base URL, e.g. https://androidpublisher.googleapis.com',
      })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional()
      .describe(
        'unset: `https://androidpublisher.googleapis.com`; set: another address (tests and sandboxes)',
      ),
  },
  // GOOGLE_APPLICATION_CREDENTIALS is shared with other Google tools: only the package name turns Play on.
  check: (env) =>
    env.GOOGLE_PLAY_PACKAGE_NAME && !env.GOOGLE_APPLICATION_CREDENTIALS
      ? [
          'GOOGLE_APPLICATION_CREDENTIALS: missing: the default Google Play app needs the path to its service account key file',
        ]
      : [],
  resolve: (f, e, { careChannelId }) => ({
    apiUrl: e.GOOGLE_PLAY_API_URL ?? 'https://androidpublisher.googleapis.com',
    pollEvery: f.poll_every,
    backfill: f.backfill,
    accounts: [
      ...(e.GOOGLE_PLAY_PACKAGE_NAME && e.GOOGLE_APPLICATION_CREDENTIALS
        ? [
            {
              name: 'default',
              package_name: e.GOOGLE_PLAY_PACKAGE_NAME,
              credentials_file: e.GOOGLE_APPLICATION_CREDENTIALS,
              channel: undefined,
              priority_by_rating: undefined,
            },
          ]
        : []),
      ...f.accounts,
    ].map((a) => ({
      name: a.name,
      packageName: a.package_name,
      credentialsFile: a.credentials_file,
      channel: a.channel ?? f.channel ?? careChannelId,
      priorityByRating: a.priority_by_rating ?? f.priority_by_rating,
    })),
  }),
});

export type GooglePlaySettings = ReturnType<typeof googlePlayConfig.resolve>;
export type GooglePlayAccount = GooglePlaySettings['accounts'][number];
