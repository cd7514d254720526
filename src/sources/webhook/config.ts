import { z } from 'zod';
import { slackChannelId } from '../../config/fields.js';
import { defineSourceConfig } from '../types.js';

const WHSEC = 'expected a Standard Webhooks secret starting with whsec_';

/** `sources.webhook`: the generic webhook (forums, review sites, anything that can POST JSON). */
export const webhookConfig = defineSourceConfig({
  file: z
    .looseObject({
      channel: slackChannelId
        .optional()
        .meta({ description: "channel for the generic webhook's cases", default: 'CARE_CHANNEL_ID' }),
      secret: z
        .string()
        .startsWith('whsec_', WHSEC)
        .optional()
        .meta({ description: 'its Standard Webhooks secret (`whsec_…`)', default: 'CARE_WEBHOOK_SECRET' }),
      reply_url: z
        .url({ error: 'expected the http(s) URL that replies are POSTed to' })
        .optional()
        .meta({ description: 'where its replies are POSTed', default: 'CARE_WEBHOOK_REPLY_URL' }),
      allow_private_network: z.boolean().optional().meta({
        description: '`reply_url` may be on a loopback, link-local or private address (an intranet forum)',
        default: '`CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK`, else `false`',
      }),
    })
    .prefault({})
    .describe(
      'The generic webhook: forums, review sites, anything that can POST JSON. It is on when a secret is set (see [The generic webhook](sources/webhook.md#the-generic-webhook)).',
    ),
  env: {
    CARE_WEBHOOK_SECRET: z
      .string()
      .startsWith('whsec_', WHSEC)
      .optional()
      .describe(
        'Standard Webhooks secret (`whsec_…`) of the generic webhook; unset (and no `sources.webhook.secret`) means the webhook is off',
      ),
    CARE_WEBHOOK_REPLY_URL: z
      .url({ error: 'expected the http(s) URL that webhook replies are POSTed to' })
      .optional()
      .describe('where replies to webhook cases are POSTed; unset means they fail with ⚠️'),
    CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .transform((v) => v === 'true')
      .optional()
      .meta({
        description:
          '`true`: `CARE_WEBHOOK_REPLY_URL` may be on a loopback, link-local or private address; `sources.webhook.allow_private_network` wins',
        default: 'false',
      }),
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
