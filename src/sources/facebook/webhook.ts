import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { type Clock, systemClock } from '../../care/clock.js';
import type { InboundMessage } from '../../care/inbound.js';
import { readSignedJson, sendJson } from '../../http/body.js';
import type { Logger } from '../../logger.js';
import { ingestInstagramEntry } from '../instagram/ingest.js';
import type { GraphApi } from '../instagram/mentions.js';
import type { InboundChange, WebhookWork } from './changes.js';
import type { FacebookPage } from './config.js';
import { ingestPageEntry } from './ingest.js';
import { MAX_GRAPH_WEBHOOK_BODY } from './limits.js';
import type { ProfileLookup } from './profiles.js';
import { SIGNATURE_HEADER, sameVerifyToken, verifyFacebookSignature } from './verify.js';

export const FACEBOOK_WEBHOOK_PATH = '/sources/facebook/webhook';
/** What people wrote in a Graph delivery (a lone surrogate there becomes U+FFFD). */
const FREE_TEXT = new Set(['message', 'text', 'name', 'username', 'caption', 'title']);

export interface FacebookWebhookDeps {
  pages: FacebookPage[];
  /** Stores one message (idempotent: Meta redelivers). */
  record(message: InboundMessage): Promise<{ duplicate: boolean }>;
  /** Notes an edit or removal of a message carebot holds (a no-op for one it does not). */
  recordChange(change: InboundChange): Promise<void>;
  /** Called after something was stored, to get it to Slack without waiting for the next round. */
  onStored(): void;
  logger: Logger;
  clock?: Clock;
  /**
   * The conversation of a post or comment carebot already holds, by source key and id, so a
   * comment joins the case of the post or comment it answers (`facebookConversationLookup(db)`).
   */
  conversationOf?(sourceKey: string, externalId: string): Promise<string | undefined>;
  /** Whether carebot already holds a message, so a redelivery costs no Graph lookup. */
  isStored?(sourceKey: string, externalId: string): Promise<boolean>;
  /** A Messenger customer's name (`messengerProfiles`); unset: cards show the page-scoped id. */
  profileOf?: ProfileLookup | undefined;
  /** `sources.instagram.channel`; unset: each Page's channel. */
  instagramChannel?: string | undefined;
  /** GRAPH_API_URL and the version, to read the words of Instagram @mentions (the webhook has only ids). */
  graph?: GraphApi | undefined;
}

const graphId = z.union([z.string().min(1), z.number().transform(String)]);

const envelope = z.looseObject({
  object: z.string({ error: 'required: the kind of object the changes are for (page or instagram)' }),
  entry: z.array(
    z.looseObject({
      id: graphId,
      time: z.number().optional(),
      changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })).optional(),
      messaging: z.array(z.unknown()).optional(),
    }),
    { error: 'required: the list of entries' },
  ),
});

/**
 * `GET|POST /sources/facebook/webhook` for Pages (feed and Messenger) and their Instagram accounts:
 * the subscription handshake, then signed change deliveries. Everything is stored before the 200
 * goes out; Meta redelivers what was not answered, and storing is idempotent.
 */
export function facebookWebhookHandler(deps: FacebookWebhookDeps) {
  const log = deps.logger.child({ source: 'facebook-webhook' });
  const clock = deps.clock ?? systemClock;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (deps.pages.length === 0) {
      sendJson(res, 404, {
        error: 'the Facebook source is off: set the FACEBOOK_* variables or sources.facebook.pages',
      });
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      verificationHandshake(deps.pages, req, res, log);
      return;
    }

    const signed = await readSignedJson(req, res, {
      limit: MAX_GRAPH_WEBHOOK_BODY,
      header: SIGNATURE_HEADER,
      secrets: [...new Set(deps.pages.map((p) => p.appSecret))],
      verify: verifyFacebookSignature,
      schema: envelope,
      freeText: FREE_TEXT,
      onRejected: (hadSignature: boolean) =>
        log.warn(
          hadSignature ? 'webhook signature does not match any Meta app' : 'webhook without a signature',
        ),
    });
    if (signed === undefined) return;
    const { secret } = signed;
    const parsed = { data: signed.body };

    const receivedAt = clock.now();
    let stored = 0;
    let changes = 0;
    const emit = async (work: WebhookWork) => {
      if (work.kind === 'message') {
        const recorded = await deps.record(work.message);
        if (!recorded.duplicate) stored += 1;
      } else {
        await deps.recordChange(work.change);
        changes += 1;
      }
    };
    const { object, entry: entries } = parsed.data;
    for (const entry of entries) {
      // Only a Page of the app that signed the delivery: one app cannot speak for another's Page.
      if (object === 'page') {
        const page = deps.pages.find((p) => p.pageId === entry.id && p.appSecret === secret);
        if (!page) {
          log.info({ pageId: entry.id }, 'webhook for a Page carebot does not watch; ignored');
          continue;
        }
        const ctx = {
          logger: log,
          receivedAt,
          conversationOf: deps.conversationOf,
          isStored: deps.isStored,
          profileOf: deps.profileOf,
        };
        await ingestPageEntry(page, entry, ctx, emit);
      } else if (object === 'instagram') {
        const page = deps.pages.find((p) => p.instagramAccountId === entry.id && p.appSecret === secret);
        if (!page?.instagramAccountId) {
          log.info(
            { instagramAccountId: entry.id },
            'webhook for an Instagram account carebot does not watch; ignored',
          );
          continue;
        }
        if (entry.messaging?.length) {
          log.warn(
            { instagramAccountId: entry.id, events: entry.messaging.length },
            'Instagram direct messages are not read by carebot; turn off the messages field of the Instagram webhook in the Meta app',
          );
        }
        const withInstagram = { ...page, instagramAccountId: page.instagramAccountId };
        const ctx = {
          logger: log,
          receivedAt,
          channel: deps.instagramChannel,
          graph: deps.graph,
          isStored: deps.isStored,
        };
        await ingestInstagramEntry(withInstagram, entry, ctx, emit);
      } else {
        log.debug({ object }, 'webhook for an object carebot does not read; ignored');
      }
    }
    if (stored + changes > 0) log.info({ stored, changes }, 'webhook changes stored');
    sendJson(res, 200, { stored, changes });
    if (stored + changes > 0) deps.onStored();
  };
}

/**
 * What Meta sends as `hub.challenge` (a number, such as 1158201444): the echo is limited to short
 * URL-safe strings, so the route cannot be made to answer arbitrary text.
 */
const HUB_CHALLENGE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Meta's subscription check: `hub.mode=subscribe` with the verify token set in the app's Webhooks
 * settings; the answer is `hub.challenge`, as it came, in plain text (verify token compared in
 * constant time; a challenge not shaped like Meta's is refused).
 */
function verificationHandshake(
  pages: FacebookPage[],
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
) {
  const params = new URL(req.url ?? '/', 'http://carebot.invalid').searchParams;
  const mode = params.get('hub.mode');
  const token = params.get('hub.verify_token') ?? '';
  const challenge = params.get('hub.challenge');
  if (mode !== 'subscribe' || !pages.some((p) => sameVerifyToken(token, p.verifyToken))) {
    log.warn({ mode }, 'webhook verification refused: the verify token does not match any Page');
    sendJson(res, 403, { error: 'hub.verify_token does not match' });
    return;
  }
  if (challenge === null) {
    sendJson(res, 400, { error: 'missing hub.challenge' });
    return;
  }
  if (!HUB_CHALLENGE.test(challenge)) {
    // The echo is carebot's own voice on its own origin: it never says more than a challenge can.
    log.warn(
      { length: challenge.length },
      'webhook verification refused: hub.challenge is not shaped like one Meta sends',
    );
    sendJson(res, 400, { error: 'hub.challenge must be 1-128 letters, digits, - or _' });
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(challenge),
  });
  res.end(challenge);
}
