import { defineSource } from '../types.js';
import { checkReddit } from './check.js';
import { redditConfig } from './config.js';
import { sourceKeyOf } from './normalize.js';
import { redditPollers } from './poller.js';
import { redditReplyAdapter } from './reply.js';

/** Reddit: each account's inbox and its subreddits, by polling; replies as comments. */
export const redditSource = defineSource({
  platform: 'reddit',
  label: 'Reddit',
  // carebot does not read Reddit's private messages; comments can be edited and deleted.
  capabilities: { reply: true, directMessage: false, privateReply: false, edit: true, delete: true },
  length: { public: { target: 'reddit', limit: 10000, name: 'Reddit' } },
  sourceNames: (settings) => settings.accounts.map((a) => ({ name: a.name, sourceKey: sourceKeyOf(a) })),
  config: redditConfig,
  check: checkReddit,
  create: (settings, deps) => {
    const urls = { apiUrl: settings.apiUrl, authUrl: settings.authUrl };
    return {
      pollers: settings.accounts.flatMap((account) =>
        redditPollers(account, { ...urls, everyMs: settings.pollEvery, backfillMs: settings.backfill }),
      ),
      reply: redditReplyAdapter(settings.accounts, urls, deps.clock),
    };
  },
});
