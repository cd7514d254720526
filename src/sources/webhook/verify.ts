import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`) checked
 * with the reference implementation: HMAC-SHA256 over `id.timestamp.body`, constant-time compare,
 * and a five-minute window on the timestamp against replays.
 */
export function verifyWebhook(
  secret: string,
  rawBody: string,
  headers: IncomingHttpHeaders,
): { ok: true } | { ok: false; reason: string } {
  const pick = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = pick('webhook-id');
  const timestamp = pick('webhook-timestamp');
  const signature = pick('webhook-signature');
  if (!id || !timestamp || !signature) {
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  }
  try {
    new Webhook(secret).verify(
      rawBody,
      {
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature,
      },
      // Parsing is ours, so a signed body that is not JSON gets a 400, not an exception.
      { jsonParse: false },
    );
    return { ok: true };
  } catch (err) {
    if (err instanceof WebhookVerificationError) return { ok: false, reason: err.message };
    throw err;
  }
}

/** Signs a body the same way, for outgoing replies (and tests). */
export function signWebhook(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
