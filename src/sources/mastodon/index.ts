import { defineSource } from '../types.js';
import { checkMastodon } from './check.js';
import { mastodonConfig } from './config.js';
import { forgetMaxCharacters, mastodonLength, smallestMaxCharacters } from './limits.js';
import { isDirectConversation, sourceKeyOf } from './normalize.js';
import { mastodonPoller } from './poller.js';
import { mastodonReplyAdapter } from './reply.js';

/** Mastodon: each account's mentions, public and direct, by polling; replies as statuses. */
export const mastodonSource = defineSource({
  platform: 'mastodon',
  label: 'Mastodon',
  // A public conversation can move to a direct (private) mention; statuses can be edited and deleted.
  capabilities: { reply: true, directMessage: true, privateReply: true, edit: true, delete: true },
  length: {
    public: {
      target: 'mastodon',
      // Each instance sets its own; learned from the instance at the first poll (500 until then).
      get limit() {
        return smallestMaxCharacters();
      },
      name: 'Mastodon',
      count: mastodonLength,
      countedBy: 'Mastodon',
    },
  },
  isDirect: isDirectConversation,
  sourceNames: (settings) => settings.accounts.map((a) => ({ name: a.name, sourceKey: sourceKeyOf(a) })),
  config: mastodonConfig,
  check: checkMastodon,
  create: (settings, deps) => {
    forgetMaxCharacters();
    return {
      pollers: settings.accounts.map((account) =>
        mastodonPoller(account, {
          everyMs: settings.pollEvery,
          backfillMs: settings.backfill,
          conversationOf: deps.conversationOf,
        }),
      ),
      reply: mastodonReplyAdapter(settings.accounts, deps.clock),
      started: { mastodonAccounts: settings.accounts.length },
    };
  },
});
