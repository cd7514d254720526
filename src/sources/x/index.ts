import twitter from 'twitter-text';
import { defineSource, type SourceParts } from '../types.js';
import { checkX } from './check.js';
import { xConfig } from './config.js';
import { sourceKeyOf } from './normalize.js';
import { xPollers } from './poller.js';
import { xReplyAdapter } from './reply.js';
import { xWebhookHandler } from './webhook.js';

/** X: mentions and keyword search by polling, posts and DMs by the Account Activity webhook. */
export const xSource = defineSource({
  platform: 'x',
  label: 'X',
  aliases: ['twitter'],
  // The API deletes posts but does not edit them.
  capabilities: { reply: true, directMessage: true, privateReply: true, edit: false, delete: true },
  length: {
    // Posts are weighted as X counts them (URLs 23, CJK double); DMs are plain characters.
    public: {
      target: 'x',
      limit: 280,
      name: 'X',
      count: (text) => twitter.parseTweet(text).weightedLength,
      countedBy: 'X',
    },
    direct: { target: 'x_dm', limit: 10000, name: 'an X direct message' },
  },
  isDirect: (conversationId) => conversationId.startsWith('dm:'),
  sourceNames: (settings) => settings.accounts.map((a) => ({ name: a.name, sourceKey: sourceKeyOf(a) })),
  config: xConfig,
  check: checkX,
  create: (settings, deps): SourceParts => {
    const webhook = xWebhookHandler({
      accounts: settings.accounts,
      record: deps.record,
      onStored: deps.onStored,
      logger: deps.logger.child({ source: 'x-webhook' }),
      clock: deps.clock,
      conversationOf: deps.conversationOf,
    });
    return {
      routes:
        settings.accounts.length > 0
          ? { 'GET /sources/x/webhook': webhook, 'POST /sources/x/webhook': webhook }
          : {},
      pollers: settings.accounts.flatMap((account) =>
        xPollers(account, {
          apiUrl: settings.apiUrl,
          everyMs: settings.pollEvery,
          ...(settings.backfill ? { backfillMs: settings.backfill } : {}),
        }),
      ),
      reply: xReplyAdapter(settings.accounts, settings.apiUrl, deps.clock),
      started: { xAccounts: settings.accounts.length },
    };
  },
});
