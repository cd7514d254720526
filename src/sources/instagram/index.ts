import { facebookConfig } from '../facebook/config.js';
import { defineSource } from '../types.js';
import { checkInstagram } from './check.js';
import { instagramConfig } from './config.js';
import { instagramReplyAdapter } from './reply.js';

/**
 * Instagram professional accounts linked to Facebook Pages: comments and @mentions come in through
 * the Page webhook (see ../facebook/webhook.ts); replies go out with the Page's token.
 */
export const instagramSource = defineSource({
  platform: 'instagram',
  label: 'Instagram',
  // Graph deletes comments but does not edit them.
  capabilities: { reply: true, directMessage: true, privateReply: true, edit: false, delete: true },
  length: {
    public: { target: 'instagram', limit: 2200, name: 'Instagram' },
    direct: { target: 'instagram_dm', limit: 1000, name: 'an Instagram direct message' },
  },
  // A private reply answers a comment on the account's own media; an @mention elsewhere has none.
  canMoveToPrivate: (conversationId) => !conversationId.startsWith('mention:'),
  config: instagramConfig,
  check: checkInstagram,
  create: (_settings, deps) => {
    const facebook = deps.settingsOf(facebookConfig);
    return {
      reply: instagramReplyAdapter(facebook.pages, facebook.apiUrl, facebook.apiVersion, deps.clock),
    };
  },
});
