import { defineSource } from '../types.js';
import { checkAppStore } from './check.js';
import { appStoreConfig } from './config.js';
import { APP_STORE_RESPONSE_MAX_LENGTH } from './limits.js';
import { sourceKeyOf } from './normalize.js';
import { appStorePoller } from './poller.js';
import { appStoreReplyAdapter } from './reply.js';

/** App Store customer reviews of each configured app, by polling; answered with the developer response. */
export const appStoreSource = defineSource({
  platform: 'app_store',
  label: 'App Store',
  aliases: ['appstore'],
  // One public response per review, which a later reply replaces (deleting the earlier one).
  capabilities: { reply: true, directMessage: false, privateReply: false, edit: true, delete: true },
  length: {
    public: { target: 'app_store', limit: APP_STORE_RESPONSE_MAX_LENGTH, name: 'an App Store response' },
  },
  sourceNames: (settings) => settings.accounts.map((a) => ({ name: a.name, sourceKey: sourceKeyOf(a) })),
  config: appStoreConfig,
  check: checkAppStore,
  create: (settings, deps) => ({
    pollers: settings.accounts.map((account) =>
      appStorePoller(account, {
        apiUrl: settings.apiUrl,
        everyMs: settings.pollEvery,
        backfillMs: settings.backfill,
        priorityByRating: settings.priorityByRating,
      }),
    ),
    reply: appStoreReplyAdapter(settings.accounts, settings.apiUrl, deps.clock),
  }),
});
