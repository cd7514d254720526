import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { type Clock, systemClock } from '../../care/clock.js';
import type { InboundMessage } from '../../care/inbound.js';
import { readSignedJson, sendJson } from '../../http/body.js';
import type { Logger } from '../../logger.js';
import type { XAccount } from './config.js';
import {
  activityDmEvent,
  activityTweet,
  activityTweetSkipReason,
  activityUsers,
  normalizeActivityDm,
  normalizeActivityTweet,
  sourceKeyOf,
} from './normalize.js';

export const X_WEBHOOK_PATH = '/sources/x/webhook';
export const MAX_X_WEBHOOK_BODY = 1024 * 1024;
const SIGNATURE_HEADER = 'x-twitter-webhooks-signature';
/** What people wrote in an Account Activity delivery (a lone surrogate there becomes U+FFFD). */
const FREE_TEXT = new Set(['text', 'full_text', 'name', 'screen_name', 'description', 'location']);

/** `sha256=` + base64 HMAC-SHA256 of `data`, keyed by the app's consumer secret: X's CRC and signatures. */
function sign(data: string, consumerSecret: string): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(data, 'utf8').digest('base64')}`;
}

/**
 * What a CRC token X sends looks like: a short string of URL-safe base64 characters (X sends a
 * random token, such as a UUID or 32-48 random bytes in base64url). The CRC answer is the very HMAC
 * that signs deliveries, so the route must never sign something a delivery could be: every body
 * carebot accepts is a JSON object, which starts with `{` (or whitespace), neither of which is
 * allowed here. Anything else gets a 400 and no signature.
 */
export const CRC_TOKEN = /^[A-Za-z0-9_-]{1,128}={0,2}$/;

/** Whether `token` has the shape of a CRC token X sends (see CRC_TOKEN); only those are answered. */
export function isCrcToken(token: string): boolean {
  return CRC_TOKEN.test(token);
}

/** The answer to X's challenge-response check (`GET …?crc_token=…`); only for a token isCrcToken accepts. */
export function xCrcResponse(crcToken: string, consumerSecret: string): string {
  return sign(crcToken, consumerSecret);
}

/** Checks `x-twitter-webhooks-signature` against the raw body, in constant time. */
export function verifyXSignature(
  rawBody: string,
  headerValue: string | undefined,
  consumerSecret: string,
): boolean {
  if (!headerValue) return false;
  const expected = Buffer.from(sign(rawBody, consumerSecret));
  const given = Buffer.from(headerValue.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface XWebhookDeps {
  accounts: XAccount[];
  /** Stores one message (idempotent: X redelivers). */
  record(message: InboundMessage): Promise<unknown>;
  /** Called after messages were stored, to get them to Slack without waiting for the next round. */
  onStored(): void;
  logger: Logger;
  clock?: Clock;
  /**
   * The conversation of a post carebot already has (a customer's post or a sent reply), by source
   * key and post id. Webhook payloads name only the post answered, not the conversation's root.
   */
  conversationOf?(sourceKey: string, postId: string): Promise<string | undefined>;
}

const envelope = z.looseObject({
  for_user_id: z.string({ error: 'required: the id of the account the events are for' }),
  tweet_create_events: z.array(z.unknown()).optional(),
  direct_message_events: z.array(z.unknown()).optional(),
  users: activityUsers.optional(),
});

/**
 * `GET|POST /sources/x/webhook` (Account Activity API): the CRC challenge, then signed event
 * deliveries. Mentions and direct messages are stored before the 200 goes out; X redelivers what
 * was not answered, and storing is idempotent.
 */
export function xWebhookHandler(deps: XWebhookDeps) {
  const log = deps.logger.child({ source: 'x-webhook' });
  const clock = deps.clock ?? systemClock;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const first = deps.accounts[0];
    if (!first) {
      sendJson(res, 404, { error: 'the X source is off: set the X_* credentials or sources.x.accounts' });
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const crcToken = new URL(req.url ?? '/', 'http://carebot.invalid').searchParams.get('crc_token');
      if (!crcToken) {
        sendJson(res, 400, { error: 'missing crc_token' });
        return;
      }
      if (!isCrcToken(crcToken)) {
        // Answering would sign an arbitrary string with the key that signs deliveries.
        log.warn({ length: crcToken.length }, 'CRC check refused: the token is not shaped like one X sends');
        sendJson(res, 400, { error: 'crc_token must be 1-128 URL-safe base64 characters' });
        return;
      }
      // Accounts of one X app share its consumer secret, which is what signs the app's webhook.
      sendJson(res, 200, { response_token: xCrcResponse(crcToken, first.consumerSecret) });
      return;
    }

    const signed = await readSignedJson(req, res, {
      limit: MAX_X_WEBHOOK_BODY,
      header: SIGNATURE_HEADER,
      secrets: [...new Set(deps.accounts.map((a) => a.consumerSecret))],
      verify: verifyXSignature,
      schema: envelope,
      freeText: FREE_TEXT,
      onRejected: (hadSignature: boolean) =>
        log.warn(hadSignature ? 'webhook signature does not match any X app' : 'webhook without a signature'),
    });
    if (signed === undefined) return;
    const { secret } = signed;
    const parsed = { data: signed.body };
    const events = parsed.data;
    // Only an account of the app that signed the delivery: one app cannot speak for another's account.
    const account = deps.accounts.find((a) => a.userId === events.for_user_id && a.consumerSecret === secret);
    if (!account) {
      log.info({ forUserId: events.for_user_id }, 'webhook for an account carebot does not watch; ignored');
      sendJson(res, 200, { ignored: true });
      return;
    }

    const messages: InboundMessage[] = [];
    const now = clock.now();
    for (const item of events.tweet_create_events ?? []) {
      const tweet = activityTweet.safeParse(item);
      if (!tweet.success) {
        log.warn(
          { issues: tweet.error.issues.map((i) => i.path.join('.')) },
          'unreadable tweet event skipped',
        );
        continue;
      }
      const skip = activityTweetSkipReason(account, tweet.data);
      if (skip) {
        log.debug({ tweetId: tweet.data.id_str, skip }, 'post skipped');
        continue;
      }
      // v1.1 has no conversation id: a reply joins the conversation of the post it answers when
      // carebot has that post; otherwise the post starts its own.
      const parent = tweet.data.in_reply_to_status_id_str;
      const conversationId =
        (parent && (await deps.conversationOf?.(sourceKeyOf(account), parent))) || tweet.data.id_str;
      messages.push(normalizeActivityTweet(account, tweet.data, conversationId, now));
    }
    for (const item of events.direct_message_events ?? []) {
      const event = activityDmEvent.safeParse(item);
      if (!event.success) {
        log.warn(
          { issues: event.error.issues.map((i) => i.path.join('.')) },
          'unreadable message event skipped',
        );
        continue;
      }
      const message = normalizeActivityDm(account, event.data, events.users ?? {}, now);
      if (message) messages.push(message);
    }
    for (const message of messages) await deps.record(message);
    if (messages.length > 0) {
      log.info({ account: account.name, messages: messages.length }, 'webhook events stored');
    }
    sendJson(res, 200, { stored: messages.length });
    if (messages.length > 0) deps.onStored();
  };
}
