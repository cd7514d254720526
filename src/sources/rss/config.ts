import { z } from 'zod';
import { duration, keywords, slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const feed = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, 'expected a short name such as forum'),
  url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of an RSS or Atom feed' }),
  keywords: keywords.describe('Only items mentioning one of these become cases; none means every item.'),
  channel: slackChannelId.optional(),
  allow_private_network: z.boolean().optional(),
});

/** `sources.rss`: RSS and Atom feeds of forums and blogs, polled. */
export const rssConfig = defineSourceConfig({
  file: z
    .strictObject({
      channel: slackChannelId.optional(),
      poll_every: duration.prefault('5m'),
      backfill: duration.optional(),
      allow_private_network: z
        .boolean()
        .default(false)
        .describe(
          'Allow feeds on loopback, link-local or private addresses (intranet forums); each feed may say otherwise.',
        ),
      feeds: z
        .array(feed)
        .default([])
        .refine(
          (feeds) => new Set(feeds.map((f) => f.name)).size === feeds.length,
          'feed names must be unique',
        ),
    })
    .prefault({}),
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
