import { z } from 'zod';
import { duration, keywords, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const feed = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, 'expected a short name such as forum')
    .describe('unique; letters, digits, `_`, `.`, `-`; shown in logs and messages'),
  url: z
    .url({ protocol: /^https?$/, error: 'expected the http(s) URL of an RSS or Atom feed' })
    .describe('the http(s) URL of the feed'),
  keywords: keywords.describe('only items mentioning one of these become cases; none: every item'),
  channel: slackChannelId
    .optional()
    .meta({ description: "channel for this feed's cases", default: 'sources.rss.channel' }),
  allow_private_network: z.boolean().optional().meta({
    description: 'this feed may be on a loopback, link-local or private address',
    default: 'sources.rss.allow_private_network',
  }),
});

/** `sources.rss`: RSS and Atom feeds. */
export const rssConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId
        .optional()
        .meta({ description: 'channel for feed cases', default: 'CARE_CHANNEL_ID' }),
      poll_every: duration.prefault('5m').describe('how often each feed is read'),
      backfill: duration.optional().describe('first start only: also import items this old'),
      allow_private_network: z
        .boolean()
        .default(false)
        .describe(
          'feeds may be on loopback, link-local or private addresses (intranet forums); each feed may say otherwise',
        ),
      feeds: z
        .array(feed)
        .default([])
        .refine(
          (feeds) => new Set(feeds.map((f) => f.name)).size === feeds.length,
          'feed names must be unique',
        )
        .describe('RSS/Atom feeds'),
    })
    .prefault({})
    .describe(
      'RSS and Atom feeds of forums and blogs, polled (see [Forums and blogs](sources/rss.md#forums-and-blogs-rssatom)).',
    ),
  resolve: (f, _env, { careChannelId }) => ({
    pollEvery: f.poll_every,
    backfill: f.backfill,
    feeds: f.feeds.map((item) => ({
      name: item.name,
      url: item.url,
      /** The feed may be on a loopback, link-local or private address. */
      allowPrivateNetwork: item.allow_private_network ?? f.allow_private_network,
      keywords: item.keywords,
      channel: item.channel ?? f.channel ?? careChannelId,
    })),
  }),
});

export type RssSettings = ReturnType<typeof rssConfig.resolve>;
export type RssFeed = RssSettings['feeds'][number];
