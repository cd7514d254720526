import { z } from 'zod';
import { duration, partlySet, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const FACEBOOK_ENV = [
  'FACEBOOK_PAGE_ID',
  'FACEBOOK_PAGE_TOKEN',
  'FACEBOOK_APP_SECRET',
  'FACEBOOK_VERIFY_TOKEN',
] as const;

const page = z.strictObject({
  name: z.string().min(1).describe('how carebot calls the Page in logs and messages'),
  page_id: z
    .string()
    .regex(/^\d{1,25}$/, 'expected the numeric Page id, in quotes')
    .describe("the Page's numeric id, in quotes"),
  page_token: z.string().min(1).describe('a long-lived Page access token'),
  app_secret: z.string().min(1).describe("the Meta app's secret (checks webhook signatures)"),
  verify_token: z.string().min(1).describe('the verify token entered for the webhook in the Meta app'),
  instagram_account_id: z
    .string()
    .regex(/^\d{1,25}$/, 'expected the numeric Instagram account id')
    .optional()
    .describe(
      'the Instagram professional account linked to the Page (numeric, in quotes), if its comments should be read too',
    ),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this Page's cases", default: 'sources.facebook.channel' }),
});

/** `sources.facebook` and the `FACEBOOK_*` variables (the `default` Page). */
export const facebookConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for Facebook cases', default: 'CARE_CHANNEL_ID' }),
      api_version: z
        .string()
        .regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v21.0')
        .default('v21.0')
        .describe('Graph API version in request paths'),
      poll_every: duration
        .nullable()
        .prefault(null)
        .describe(
          "also read each Page's feed this often, for when Meta's webhooks cannot reach carebot; `null`: webhooks only",
        ),
      pages: z.array(page).default([]).describe('Pages besides the `default` one from `FACEBOOK_*`'),
    })
    .prefault({})
    .describe(
      'Facebook Pages and the Instagram accounts linked to them, by webhook and optionally by polling (see [Facebook and Instagram](sources/facebook.md#facebook-and-instagram)).',
    ),
  env: {
    FACEBOOK_PAGE_ID: z
      .string()
      .regex(/^\d{1,25}$/, 'expected the numeric Page id')
      .optional()
      .describe(
        'numeric id of the `default` Facebook Page, which is on when all four `FACEBOOK_*` are set (all four or none; see [Facebook and Instagram](sources/facebook.md#facebook-and-instagram))',
      ),
    FACEBOOK_PAGE_TOKEN: z
      .string()
      .min(1)
      .optional()
      .describe("the `default` Page's long-lived access token"),
    FACEBOOK_APP_SECRET: z
      .string()
      .min(1)
      .optional()
      .describe("the Meta app's secret (checks webhook signatures), for the `default` Page"),
    FACEBOOK_VERIFY_TOKEN: z
      .string()
      .min(1)
      .optional()
      .describe('the verify token entered for the webhook in the Meta app, for the `default` Page'),
    INSTAGRAM_ACCOUNT_ID: z
      .string()
      .regex(/^\d{1,25}$/, 'expected the numeric Instagram account id')
      .optional()
      .describe('the Instagram professional account linked to the `default` Page (needs the Page)'),
    GRAPH_API_URL: z
      .url({ error: 'expected the Graph API base URL, e.g. https://graph.facebook.com' })
      .default('https://graph.facebook.com')
      .transform((u) => u.replace(/\/+$/, ''))
      .describe('Graph API base URL (tests and sandboxes point it elsewhere)'),
  },
  check: (env) => [
    ...partlySet(env, FACEBOOK_ENV, 'the default Facebook Page'),
    ...(env.INSTAGRAM_ACCOUNT_ID && !env.FACEBOOK_PAGE_ID
      ? ['INSTAGRAM_ACCOUNT_ID: needs the Facebook Page it is linked to (FACEBOOK_PAGE_ID and the rest)']
      : []),
  ],
  resolve: (f, e, { careChannelId }) => ({
    apiUrl: e.GRAPH_API_URL,
    apiVersion: f.api_version,
    pollEvery: f.poll_every,
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
      ...f.pages,
    ].map((p) => ({
      name: p.name,
      pageId: p.page_id,
      pageToken: p.page_token,
      appSecret: p.app_secret,
      verifyToken: p.verify_token,
      instagramAccountId: p.instagram_account_id,
      channel: p.channel ?? f.channel ?? careChannelId,
    })),
  }),
});

export type FacebookSettings = ReturnType<typeof facebookConfig.resolve>;
export type FacebookPage = FacebookSettings['pages'][number];
