import type { Clock } from '../../care/clock.js';
import { OutboundError, type OutboundResponse, outboundRequest } from '../../http/outbound.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import type { WebhookSourceConfig } from './config.js';
import { signWebhook } from './verify.js';

const TIMEOUT_MS = 10_000;
/** The most of a receiver's answer carebot reads (it needs an id and a link at most). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from now. */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/**
 * Replies of the generic webhook source: a POST to the source's `reply_url`, signed with the same
 * Standard Webhooks secret. The `webhook-id` is the reply's idempotency key, the same on every
 * attempt, so a receiver that remembers ids never shows a reply twice.
 */
export function webhookReplyAdapter(source: WebhookSourceConfig, clock: Clock): ReplyAdapter {
  return {
    label: (sourceKey) => (sourceKey.startsWith('webhook:') ? sourceKey.slice('webhook:'.length) : sourceKey),
    async reply(req: ReplyRequest): Promise<ReplyOutcome> {
      if (!source.replyUrl) {
        return {
          ok: false,
          permanent: true,
          reason:
            'no reply URL is set for the webhook source (CARE_WEBHOOK_REPLY_URL or sources.webhook.reply_url)',
        };
      }
      if (!source.secret)
        return { ok: false, permanent: true, reason: 'the webhook source has no secret to sign with' };
      const body = JSON.stringify({
        type: 'reply',
        caseId: req.caseId,
        source: req.sourceKey.startsWith('webhook:') ? req.sourceKey.slice('webhook:'.length) : req.sourceKey,
        conversationId: req.conversationId,
        inReplyTo: req.inReplyTo,
        text: req.text,
        agent: req.agent,
      });
      // The signature's timestamp is about the transport, checked against the receiver's wall clock.
      const headers = signWebhook(source.secret, req.idempotencyKey, new Date(), body);
      let res: OutboundResponse;
      try {
        // Never redirected: a signed reply goes to reply_url and nowhere else.
        res = await outboundRequest(source.replyUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          timeoutMs: TIMEOUT_MS,
          maxBytes: MAX_RESPONSE_BYTES,
          overflow: 'truncate',
          allowPrivateNetwork: source.allowPrivateNetwork,
          maxRedirects: 0,
        });
      } catch (err) {
        const problem = err instanceof OutboundError ? err.problem : 'network';
        if (problem === 'private_address') {
          return {
            ok: false,
            permanent: true,
            reason: `the reply URL ${(err as OutboundError).message} (sources.webhook.allow_private_network)`,
          };
        }
        return {
          ok: false,
          permanent: false,
          reason:
            problem === 'timeout'
              ? `the reply URL did not answer within ${TIMEOUT_MS / 1000} s`
              : 'the reply URL could not be reached',
        };
      }
      const text = res.body.toString('utf8');
      if (res.status >= 200 && res.status <= 299) {
        // A longer answer than an id and a link is cut at MAX_RESPONSE_BYTES: delivered, no details.
        const delivered = res.truncated ? {} : parseDelivered(text);
        return { ok: true, ...delivered };
      }
      if (res.status >= 300 && res.status <= 399) {
        return {
          ok: false,
          permanent: true,
          reason: `the receiver redirected the reply (HTTP ${res.status}); carebot sends signed replies only to reply_url itself: set reply_url to the final address`,
        };
      }
      const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      const detail = excerpt ? `: ${excerpt}` : '';
      if (res.status === 429) {
        return {
          ok: false,
          permanent: false,
          reason: `the receiver is rate limiting (HTTP 429)`,
          retryAfterMs: retryAfterMs(res.headers.get('retry-after'), clock.now()),
        };
      }
      if (res.status === 408 || res.status >= 500) {
        return {
          ok: false,
          permanent: false,
          reason: `the receiver had an error (HTTP ${res.status})${detail}`,
        };
      }
      return {
        ok: false,
        permanent: true,
        reason: `the receiver refused the reply (HTTP ${res.status})${detail}`,
      };
    },
  };
}

/** A receiver may answer with the id and link of the posted reply; anything else is fine too. */
function parseDelivered(text: string): { externalId?: string; url?: string } {
  try {
    const json = JSON.parse(text) as { id?: unknown; url?: unknown };
    return {
      ...(typeof json.id === 'string' || typeof json.id === 'number' ? { externalId: String(json.id) } : {}),
      ...(typeof json.url === 'string' && /^https?:\/\//.test(json.url) ? { url: json.url } : {}),
    };
  } catch {
    return {};
  }
}
