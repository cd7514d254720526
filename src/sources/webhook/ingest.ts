import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../care/clock.js';
import type { InboundMessage, RecordedInbound } from '../../care/inbound.js';
import { BodyTooLarge, readBody, refuseTooLarge, sendJson } from '../../http/body.js';
import type { Logger } from '../../logger.js';
import type { WebhookSourceConfig } from './config.js';
import { normalizeWebhook } from './normalize.js';
import { verifyWebhook } from './verify.js';

export const MAX_WEBHOOK_BODY = 1024 * 1024;

export interface WebhookIngestDeps {
  clock: Clock;
  logger: Logger;
  source: WebhookSourceConfig;
  /**
   * Stores one message (idempotent: a resend is reported as a duplicate) and, when it is new,
   * kicks the Slack sync, so the post is under way when the sender hears back.
   */
  record(message: InboundMessage): Promise<RecordedInbound>;
}

/**
 * `POST /sources/webhook`: verify, validate, store, answer. The message is in the database
 * before the 202 goes out; posting it to Slack happens from there.
 */
export function webhookHandler(deps: WebhookIngestDeps) {
  const log = deps.logger.child({ source: 'webhook' });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const secret = deps.source.secret;
    if (!secret) {
      sendJson(res, 404, {
        error: 'the generic webhook source is off: set CARE_WEBHOOK_SECRET to turn it on',
      });
      return;
    }
    let raw: string;
    try {
      raw = await readBody(req, MAX_WEBHOOK_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // Answer and hang up: the rest of an oversized upload is not read.
        refuseTooLarge(req, res, MAX_WEBHOOK_BODY);
        return;
      }
      throw err;
    }
    const verified = verifyWebhook(secret, raw, req.headers);
    if (!verified.ok) {
      log.warn({ reason: verified.reason }, 'webhook signature rejected');
      sendJson(res, 401, { error: `invalid signature: ${verified.reason}` });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      sendJson(res, 400, {
        error: 'body is not valid JSON',
        fields: [{ path: '(body)', message: 'not valid JSON' }],
      });
      return;
    }
    const normalized = normalizeWebhook(body, deps.source.channel, deps.clock.now());
    if (!normalized.ok) {
      const names = normalized.fields.map((f) => f.path).join(', ');
      sendJson(res, 400, { error: `invalid body: ${names}`, fields: normalized.fields });
      return;
    }
    const stored = await deps.record(normalized.message);
    if (stored.duplicate) {
      sendJson(res, 200, { caseId: stored.caseId, duplicate: true });
      return;
    }
    log.info(
      { caseId: stored.caseId, opened: stored.opened, sourceKey: normalized.message.sourceKey },
      'message stored',
    );
    sendJson(res, 202, { caseId: stored.caseId, duplicate: false });
  };
}
