import { defineSource } from '../types.js';
import { checkBluesky } from './check.js';
import { BlueskyClient } from './client.js';
import { blueskyConfig } from './config.js';
import { BLUESKY_MAX_GRAPHEMES, graphemeLength } from './limits.js';
import { sourceKeyOf } from './normalize.js';
import { blueskyPollers } from './poller.js';
import { blueskyReplyAdapter } from './reply.js';

/** Bluesky: each account's mentions, replies and quotes, and keyword searches, by polling; replies in the thread. */
export const blueskySource = defineSource({
  platform: 'bluesky',
  label: 'Bluesky',
  // Bluesky's chats are a separate service (chat.bsky) that app passwords reach only with extra
  // consent; carebot answers in the thread. Posts can be deleted, not edited.
  capabilities: { reply: true, directMessage: false, privateReply: false, edit: false, delete: true },
  length: {
    public: {
      target: 'bluesky',
      limit: BLUESKY_MAX_GRAPHEMES,
      name: 'Bluesky',
      count: graphemeLength,
      countedBy: 'Bluesky',
    },
  },
  sourceNames: (settings) => settings.accounts.map((a) => ({ name: a.name, sourceKey: sourceKeyOf(a) })),
  config: blueskyConfig,
  check: checkBluesky,
  create: (settings, deps) => {
    // One client (one session) per account, shared by its pollers and its replies.
    const clients = settings.accounts.map((account) => new BlueskyClient(account, settings.serviceUrl));
    const options = {
      serviceUrl: settings.serviceUrl,
      everyMs: settings.pollEvery,
      backfillMs: settings.backfill,
    };
    return {
      pollers: clients.flatMap((client) => blueskyPollers(client.account, options, client)),
      reply: blueskyReplyAdapter(clients, deps.clock, deps.logger),
    };
  },
});
