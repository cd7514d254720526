import { defineSource } from '../types.js';
import { checkGooglePlay } from './check.js';
import { googlePlayConfig } from './config.js';
import { PLAY_REPLY_MAX_LENGTH } from './limits.js';
import { sourceKeyOf } from './normalize.js';
import { googlePlayPoller } from './poller.js';
import { googlePlayReplyAdapter } from './reply.js';

/** Google Play: each app's reviews by polling the Android Publisher API; answers as the developer reply. */
export const googlePlaySource = defineSource({
  platform: 'google_play',
  label: 'Google Play',
  aliases: ['play', 'googleplay'],
  // One developer reply per review, replaced by the next one; the API cannot delete it.
  capabilities: { reply: true, directMessage: false, privateReply: false, edit: true, delete: false },
  length: { public: { target: 'google_play', limit: PLAY_REPLY_MAX_LENGTH, name: 'a Google Play reply' } },
  sourceNames: (settings) => settings.accounts.map((a) => ({ name: a.name, sourceKey: sourceKeyOf(a) })),
  config: googlePlayConfig,
  check: checkGooglePlay,
  create: (settings, deps) => ({
    pollers: settings.accounts.map((account) =>
      googlePlayPoller(account, {
        apiUrl: settings.apiUrl,
        everyMs: settings.pollEvery,
        backfillMs: settings.backfill,
      }),
    ),
    reply: googlePlayReplyAdapter(settings.accounts, settings.apiUrl, deps.clock),
    started: { apps: settings.accounts.length },
  }),
});
