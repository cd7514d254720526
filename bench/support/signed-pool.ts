import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WEBHOOK_SECRET } from '../../test/reliability/support/env.js';

export interface SignedRequest {
  id: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * Distinct, pre-signed generic-webhook requests (Standard Webhooks signatures cover id, timestamp
 * and body, so each request is signed once, up front, at `at`: valid for five minutes after it).
 * `conversations` > 0 spreads them over that many conversations, else each is its own case.
 */
export function signedPool(
  count: number,
  opts: { prefix?: string; conversations?: number; at?: Date } = {},
): SignedRequest[] {
  const webhook = new Webhook(WEBHOOK_SECRET);
  const at = opts.at ?? new Date();
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const run = opts.prefix ?? randomBytes(3).toString('hex');
  const pool: SignedRequest[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${run}-${i}`;
    const conversationId = opts.conversations ? `${run}-conv-${i % opts.conversations}` : id;
    const body = JSON.stringify({
      source: 'forum',
      id,
      conversationId,
      author: { id: `u-${conversationId}`, name: 'Jane Doe', handle: 'jane' },
      text: `My order never arrived [${id}]`,
      url: `https://forum.example/t/${conversationId}#${i}`,
    });
    const messageId = `msg_${run}_${i}`;
    pool.push({
      id,
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': messageId,
        'webhook-timestamp': timestamp,
        'webhook-signature': webhook.sign(messageId, at, body),
      },
    });
  }
  return pool;
}
