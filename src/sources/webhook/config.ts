import { z } from 'zod';
import { slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const WHSEC = 'expected a Standard Webhooks secret starting with whsec_';

/** `sources.webhook`: the generic webhook (forums, review sites, anything that can POST JSON). */
export const webhookConfig = defineSourceConfig({
  file: z
    .looseObject({
      channel: slackChannelId.optional(),
      secret: z.string().startsWith('whsec_', WHSEC).optional(),
      reply_url: z.url({ error: 'expected the http(s) URL that replies are POSTed to' }).optional(),
      allow_private_network: z
        .boolean()
        .optional()
        .describe('Allow a reply_url on a loopback, link-local or private address (an intranet forum).'),
    })
    .prefault({}),
  env: {
    CARE_WEBHOOK_SECRET: z.string().startsWith('whsec_', WHSEC).optional(),
    CARE_WEBHOOK_REPLY_URL: z
      .url({ error: 'expected the http(s) URL that webhook replies are POSTed to' })
      .optional(),
    CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .transform((v) => v === 'true')
      .optional()
      .describe('`true`: CARE_WEBHOOK_REPLY_URL may be on a loopback, link-local or private address.'),
  },
  resolve: (f, e, { careChannelId }) => ({
    secret: f.secret ?? e.CARE_WEBHOOK_SECRET,
    replyUrl: f.reply_url ?? e.CARE_WEBHOOK_REPLY_URL,
    /** The reply URL may be on a loopback, link-local or private address. */
    allowPrivateNetwork: f.allow_private_network ?? e.CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK ?? false,
    channel: f.channel ?? careChannelId,
  }),
});

export type WebhookSourceConfig = ReturnType<typeof webhookConfig.resolve>;
