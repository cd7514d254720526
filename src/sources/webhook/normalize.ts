import { z } from 'zod';
import { isWellFormed, NOT_WELL_FORMED, toWellFormed } from '../../http/well-formed.js';
import type { Normalized } from '../types.js';

/**
 * PostgreSQL cannot hold U+0000 nor a lone surrogate; an identifier with either is the sender's
 * error (400 naming the field).
 */
const noNul = (schema: z.ZodString) =>
  schema
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters')
    .refine(isWellFormed, NOT_WELL_FORMED);
/** What a person wrote: NUL is still refused, a lone surrogate becomes U+FFFD. */
const freeText = (schema: z.ZodString) =>
  schema.refine((v) => !v.includes('\u0000'), 'must not contain NUL characters').transform(toWellFormed);

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .refine(isWellFormed, NOT_WELL_FORMED);

/** The generic webhook's body, as the contract in DESIGN.md fixes it. */
export const webhookBody = z.object({
  source: z
    .string({ error: 'required: the name of the tool posting, e.g. "forum"' })
    .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, 'expected a short name of letters, digits, ".", "_" or "-"'),
  id: noNul(
    z.string({ error: 'required: the message id in the source' }).min(1, 'must not be empty').max(512),
  ),
  conversationId: noNul(z.string().min(1, 'must not be empty').max(512)).optional(),
  author: z.object(
    {
      id: noNul(
        z.string({ error: 'required: the author id in the source' }).min(1, 'must not be empty').max(512),
      ),
      name: freeText(z.string().max(512)).optional(),
      handle: freeText(z.string().max(512)).optional(),
      url: httpUrl.optional(),
      /** Optional reach (followers), for sources that know it; it raises the priority. */
      followers: z.number().int().nonnegative().optional(),
    },
    { error: 'required: an object with at least an id' },
  ),
  text: freeText(
    z.string({ error: 'required: what the customer wrote' }).min(1, 'must not be empty').max(40_000),
  ),
  url: httpUrl.optional(),
  createdAt: z.iso
    .datetime({ offset: true, error: 'expected an ISO 8601 time such as 2026-11-23T10:00:00Z' })
    .optional(),
});

export type WebhookBody = z.output<typeof webhookBody>;

export function normalizeWebhook(body: unknown, channelId: string, receivedAt: Date): Normalized {
  const parsed = webhookBody.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      fields: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
    };
  }
  const b = parsed.data;
  return {
    ok: true,
    message: {
      sourceKey: `webhook:${b.source}`,
      platform: 'webhook',
      externalId: b.id,
      // A message without a conversation is a conversation of its own.
      conversationId: b.conversationId ?? b.id,
      author: {
        id: b.author.id,
        name: b.author.name,
        handle: b.author.handle,
        url: b.author.url,
        followers: b.author.followers,
      },
      text: b.text,
      url: b.url,
      sentAt: b.createdAt ? new Date(b.createdAt) : receivedAt,
      channelId,
    },
  };
}
