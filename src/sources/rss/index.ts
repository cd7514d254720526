import { defineSource } from '../types.js';
import { checkFeeds } from './check.js';
import { rssConfig } from './config.js';
import { rssSourceKey } from './normalize.js';
import { rssPoller } from './poller.js';
import { rssReplyAdapter } from './reply.js';

/** RSS and Atom feeds (forums, blogs): polled; agents answer on the site itself. */
export const rssSource = defineSource({
  platform: 'rss',
  label: 'RSS',
  capabilities: { reply: false, directMessage: false, privateReply: false, edit: false, delete: false },
  sourceNames: (settings) => settings.feeds.map((f) => ({ name: f.name, sourceKey: rssSourceKey(f) })),
  config: rssConfig,
  check: checkFeeds,
  create: (settings) => ({
    pollers: settings.feeds.map((feed) =>
      rssPoller(feed, {
        everyMs: settings.pollEvery,
        ...(settings.backfill ? { backfillMs: settings.backfill } : {}),
      }),
    ),
    reply: rssReplyAdapter(),
    started: { feeds: settings.feeds.length },
  }),
});
