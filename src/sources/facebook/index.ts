import { instagramConfig } from '../instagram/config.js';
import { defineSource } from '../types.js';
import { checkFacebook } from './check.js';
import { facebookConfig } from './config.js';
import { facebookSourceKey } from './normalize.js';
import { facebookFeedPoller } from './poller.js';
import { messengerProfiles } from './profiles.js';
import { facebookReplyAdapter } from './reply.js';
import { facebookWebhookHandler } from './webhook.js';

/**
 * Facebook Pages: visitor posts, comments and Messenger by the Page webhook (which also carries the
 * linked Instagram accounts' comments and mentions), and the Page feed by polling where asked.
 */
export const facebookSource = defineSource({
  platform: 'facebook',
  label: 'Facebook',
  // Page comments can be edited and deleted through Graph; Messenger messages cannot.
  capabilities: { reply: true, directMessage: true, privateReply: true, edit: true, delete: true },
  length: {
    public: { target: 'facebook', limit: 8000, name: 'Facebook' },
    // Messenger messages, and private replies (which are Messenger messages).
    direct: { target: 'messenger', limit: 2000, name: 'Messenger' },
  },
  isDirect: (conversationId) => conversationId.startsWith('messenger:'),
  sourceNames: (settings) => settings.pages.map((p) => ({ name: p.name, sourceKey: facebookSourceKey(p) })),
  config: facebookConfig,
  check: checkFacebook,
  create: (settings, deps) => {
    const instagram = deps.settingsOf(instagramConfig);
    const routes: Record<string, ReturnType<typeof facebookWebhookHandler>> = {};
    if (settings.pages.length > 0) {
      const webhook = facebookWebhookHandler({
        pages: settings.pages,
        record: deps.record,
        recordChange: deps.recordChange,
        onStored: deps.onStored,
        logger: deps.logger.child({ source: 'facebook-webhook' }),
        clock: deps.clock,
        conversationOf: deps.conversationOf,
        isStored: deps.isStored,
        profileOf: messengerProfiles(
          { apiUrl: settings.apiUrl, apiVersion: settings.apiVersion },
          deps.clock,
          deps.logger.child({ source: 'facebook-webhook' }),
        ),
        ...(instagram.channel ? { instagramChannel: instagram.channel } : {}),
        graph: { apiUrl: settings.apiUrl, apiVersion: settings.apiVersion },
      });
      routes['GET /sources/facebook/webhook'] = webhook;
      routes['POST /sources/facebook/webhook'] = webhook;
    }
    const everyMs = settings.pollEvery;
    return {
      routes,
      pollers:
        everyMs === null
          ? []
          : settings.pages.map((page) =>
              facebookFeedPoller(page, { apiUrl: settings.apiUrl, apiVersion: settings.apiVersion, everyMs }),
            ),
      reply: facebookReplyAdapter(settings.pages, settings.apiUrl, settings.apiVersion, deps.clock),
    };
  },
});
