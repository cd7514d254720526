import { defineSource } from '../types.js';
import { checkWebhook } from './check.js';
import { webhookConfig } from './config.js';
import { webhookHandler } from './ingest.js';
import { webhookReplyAdapter } from './reply.js';

/**
 * The generic webhook: anything that can POST signed JSON (forums, review sites). Its sources are
 * named by the sender (`webhook:forum`), and replies are POSTed to the configured reply URL.
 */
export const webhookSource = defineSource({
  platform: 'webhook',
  label: 'Webhook',
  capabilities: { reply: true, directMessage: false, privateReply: false, edit: false, delete: false },
  namedBySource: true,
  config: webhookConfig,
  check: checkWebhook,
  create: (settings, deps) => ({
    routes: {
      'POST /sources/webhook': webhookHandler({
        clock: deps.clock,
        logger: deps.logger,
        source: settings,
        record: deps.record,
      }),
    },
    reply: webhookReplyAdapter(settings, deps.clock),
  }),
});
