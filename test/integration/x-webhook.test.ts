import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { asc, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeXAccount } from '../../emulators/x/api.js';
import { conversationOfMessage, recordInbound } from '../../src/care/case-inbound.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createHttpServer, listen } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { isCrcToken, X_WEBHOOK_PATH, xWebhookHandler } from '../../src/sources/x/webhook.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const brand = fakeXAccount();
// A second account of the same X app (same consumer secret), routed to its own channel.
const support = fakeXAccount({ name: 'support', userId: '1700000000000000002', channel: 'CSUPPORT' });
const MENTION_ID = '1862000000000000123';

const sign = (body: string, secret = brand.consumerSecret) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('base64')}`;

const mentionEvent = (over: Record<string, unknown> = {}) => ({
  created_at: 'Mon Nov 23 09:59:00 +0000 2026',
  id: 1862000000000000000,
  id_str: MENTION_ID,
  text: '@brand my parcel is lost &amp; nobody answers',
  in_reply_to_status_id_str: null,
  user: { id: 42, id_str: '42', name: 'Jane Doe', screen_name: 'jane', followers_count: 12_345 },
  ...over,
});

describe('X webhook', () => {
  let handle: DatabaseHandle;
  let server: Server;
  let base: string;
  let stored: number;
  const clock = new ManualClock('2026-11-23T10:00:00Z');

  beforeAll(async () => {
    handle = await createTestDatabase();
    const logger = createLogger('silent');
    const handler = xWebhookHandler({
      accounts: [brand, support],
      record: (message) => recordInbound(handle.db, clock, message),
      onStored: () => {
        stored += 1;
      },
      logger,
      clock,
      conversationOf: (sourceKey, id) => conversationOfMessage(handle.db, sourceKey, id),
    });
    server = createHttpServer(
      { [`GET ${X_WEBHOOK_PATH}`]: handler, [`POST ${X_WEBHOOK_PATH}`]: handler },
      logger,
    );
    base = `http://127.0.0.1:${await listen(server, 0)}${X_WEBHOOK_PATH}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    stored = 0;
  });
  afterEach(() => {
    clock.set('2026-11-23T10:00:00Z');
  });

  const post = async (payload: unknown, options: { signature?: string | null; raw?: string } = {}) => {
    const body = options.raw ?? JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const signature = options.signature === undefined ? sign(body) : options.signature;
    if (signature !== null) headers['x-twitter-webhooks-signature'] = signature;
    const res = await fetch(base, { method: 'POST', headers, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const rows = () => handle.db.select().from(messages).orderBy(asc(messages.id));
  const count = async () => {
    const [row] = await handle.db.select({ n: sql<number>`count(*)::int` }).from(messages);
    return row?.n ?? 0;
  };

  it('answers the CRC challenge with the HMAC of the token', async () => {
    const res = await fetch(`${base}?crc_token=crc-token-1234`);
    expect(res.status).toBe(200);
    // The app's consumer secret here is cs-test-consumer-secret:
    // printf %s crc-token-1234 | openssl dgst -sha256 -hmac cs-test-consumer-secret -binary | base64
    expect(await res.json()).toEqual({
      response_token: 'sha256=F4gKpOjBIVW7Qw9T/hC96Go7/hz1xtMt2Mpd/r9H8Uo=',
    });
    expect((await fetch(base)).status).toBe(400);
  });

  it('refuses a bad or missing signature with 401 and stores nothing', async () => {
    const payload = { for_user_id: brand.userId, tweet_create_events: [mentionEvent()] };
    expect((await post(payload, { signature: sign(JSON.stringify(payload), 'not-the-secret') })).status).toBe(
      401,
    );
    expect((await post(payload, { signature: null })).status).toBe(401);
    expect((await post(payload, { signature: 'sha256=' })).status).toBe(401);
    expect(await count()).toBe(0);
    expect(stored).toBe(0);
  });

  it('turns a mention into a case, skips own posts and retweets, and ignores a redelivery', async () => {
    const payload = {
      for_user_id: brand.userId,
      tweet_create_events: [
        mentionEvent(),
        mentionEvent({ id_str: '1862000000000000200', user: { id_str: brand.userId, screen_name: 'brand' } }),
        mentionEvent({ id_str: '1862000000000000300', retweeted_status: { id_str: MENTION_ID } }),
      ],
    };
    const res = await post(payload);
    expect(res).toEqual({ status: 200, json: { stored: 1 } });
    expect(stored).toBe(1);
    const [message] = await rows();
    expect(message).toMatchObject({
      sourceKey: `x:${brand.userId}`,
      externalId: MENTION_ID,
      authorHandle: 'jane',
      authorFollowers: 12_345,
      text: '@brand my parcel is lost & nobody answers',
      url: `https://x.com/jane/status/${MENTION_ID}`,
      sentAt: new Date('2026-11-23T09:59:00Z'),
    });
    const [row] = await handle.db.select().from(cases);
    expect(row).toMatchObject({ conversationId: MENTION_ID, channelId: brand.channel });

    expect((await post(payload)).status).toBe(200);
    expect(await count()).toBe(1);
  });

  it('joins a reply to the case of the post it answers, and routes each account to its channel', async () => {
    await post({ for_user_id: brand.userId, tweet_create_events: [mentionEvent()] });
    await post({
      for_user_id: brand.userId,
      tweet_create_events: [
        mentionEvent({
          id_str: '1862000000000000999',
          text: '@brand hello??',
          in_reply_to_status_id_str: MENTION_ID,
        }),
      ],
    });
    await post({
      for_user_id: support.userId,
      tweet_create_events: [mentionEvent({ id_str: '1862000000000001000', text: '@support help' })],
    });
    const all = await handle.db.select().from(cases).orderBy(asc(cases.id));
    expect(all.map((c) => [c.sourceKey, c.conversationId, c.channelId])).toEqual([
      [`x:${brand.userId}`, MENTION_ID, brand.channel],
      [`x:${support.userId}`, '1862000000000001000', 'CSUPPORT'],
    ]);
    expect(await count()).toBe(3);
  });

  it("turns a direct message into a DM case and skips the account's own", async () => {
    const payload = {
      for_user_id: brand.userId,
      direct_message_events: [
        {
          type: 'message_create',
          id: '1862000000000005000',
          created_timestamp: String(Date.parse('2026-11-23T09:58:00Z')),
          message_create: {
            target: { recipient_id: brand.userId },
            sender_id: '42',
            message_data: { text: 'Here is my order number: 123' },
          },
        },
        {
          type: 'message_create',
          id: '1862000000000005001',
          created_timestamp: String(Date.parse('2026-11-23T09:59:00Z')),
          message_create: {
            target: { recipient_id: '42' },
            sender_id: brand.userId,
            message_data: { text: 'Thanks, checking' },
          },
        },
      ],
      users: {
        '42': { id: '42', name: 'Jane Doe', screen_name: 'jane', followers_count: 12_345 },
        [brand.userId]: { id: brand.userId, name: 'Brand', screen_name: 'brand' },
      },
    };
    expect(await post(payload)).toEqual({ status: 200, json: { stored: 1 } });
    const [message] = await rows();
    expect(message).toMatchObject({
      externalId: '1862000000000005000',
      authorHandle: 'jane',
      authorFollowers: 12_345,
      text: 'Here is my order number: 123',
      url: null,
    });
    const [row] = await handle.db.select().from(cases);
    expect(row?.conversationId).toBe('dm:42');
  });

  it('ignores accounts it does not watch and refuses unreadable or oversized bodies', async () => {
    expect(await post({ for_user_id: '999', tweet_create_events: [mentionEvent()] })).toEqual({
      status: 200,
      json: { ignored: true },
    });
    expect((await post(undefined, { raw: '{"for_user_id": ' })).status).toBe(400);
    expect((await post({ tweet_create_events: [] })).status).toBe(400);
    const big = JSON.stringify({ for_user_id: brand.userId, pad: 'x'.repeat(1024 * 1024) });
    expect((await post(undefined, { raw: big })).status).toBe(413);
    expect(await count()).toBe(0);
    expect(stored).toBe(0);
  });
  it('refuses an id holding a lone surrogate with a 400 naming it, and repairs one in the text', async () => {
    // JSON.stringify writes a lone surrogate as the escape "\ud800", as a sender would.
    const badId = await post({
      for_user_id: brand.userId,
      tweet_create_events: [mentionEvent({ id_str: '186\ud800' })],
    });
    expect(badId.status).toBe(400);
    expect(badId.json.error).toBe('invalid body: tweet_create_events.0.id_str');
    expect(await count()).toBe(0);
    const badText = await post({
      for_user_id: brand.userId,
      tweet_create_events: [
        mentionEvent({
          text: '@brand broken \ud83d and \ude00 halves',
          user: { id_str: '42', name: 'Jane \udfff', screen_name: 'jane' },
        }),
      ],
    });
    expect(badText).toEqual({ status: 200, json: { stored: 1 } });
    const [message] = await rows();
    expect(message?.text).toBe('@brand broken \ufffd and \ufffd halves');
    expect(message?.authorName).toBe('Jane \ufffd');
  });

  it('does not sign a forged delivery through the CRC route (the oracle attack), end to end', async () => {
    // The attack on the old route: ask the CRC check to "sign" a body, then POST that body with it.
    const forged = JSON.stringify({
      for_user_id: brand.userId,
      tweet_create_events: [
        mentionEvent({
          id_str: '1862000000000009999',
          text: '@brand you scammed me, refund now or I tell my 5M followers',
          user: { id: 7, id_str: '7', name: 'Big Name', screen_name: 'bigname', followers_count: 5_000_000 },
        }),
      ],
    });
    const crc = await fetch(`${base}?crc_token=${encodeURIComponent(forged)}`);
    const answer = (await crc.json()) as Record<string, unknown>;
    const stolen = typeof answer.response_token === 'string' ? answer.response_token : 'sha256=';
    const delivery = await post(undefined, { raw: forged, signature: stolen });
    expect(delivery.status).toBe(401);
    expect(crc.status).toBe(400);
    expect(answer).not.toHaveProperty('response_token');
    expect(await count()).toBe(0);
    expect(await handle.db.select().from(cases)).toEqual([]);
    expect(stored).toBe(0);
  });

  it('answers only CRC tokens shaped as X sends them, never anything a delivery could be', async () => {
    for (const token of ['9b4507b3-9040-4669-9ca3-6b94edb50553', 'x', `${'A'.repeat(64)}==`]) {
      const res = await fetch(`${base}?crc_token=${encodeURIComponent(token)}`);
      expect(res.status, token).toBe(200);
    }
    for (const token of ['{}', ' {"a":1}', 'a b', 'a'.repeat(129), 'tok\u00e9n', 'a/b+c', '=abc', '[1]']) {
      const res = await fetch(`${base}?crc_token=${encodeURIComponent(token)}`);
      expect(res.status, token).toBe(400);
      expect(await res.json(), token).not.toHaveProperty('response_token');
    }
    // Every body the POST route accepts is a JSON object (its schema wants one): none of them,
    // however it is spaced, is a token the route signs.
    const delivery = fc.record(
      {
        for_user_id: fc.string(),
        tweet_create_events: fc.array(fc.jsonValue(), { maxLength: 2 }),
        direct_message_events: fc.array(fc.jsonValue(), { maxLength: 2 }),
      },
      { requiredKeys: ['for_user_id'] },
    );
    const body = fc.oneof(
      delivery.map((d) => JSON.stringify(d)),
      fc
        .tuple(delivery, fc.integer({ min: 0, max: 4 }))
        .map(([d, indent]) => JSON.stringify(d, null, indent)),
      fc
        .tuple(fc.constantFrom(' ', '\n', '\t', '\r', '\ufeff'), delivery)
        .map(([ws, d]) => ws + JSON.stringify(d)),
      fc.object().map((o) => JSON.stringify(o)),
    );
    fc.assert(fc.property(body, (b) => !isCrcToken(b)));
    await fc.assert(
      fc.asyncProperty(delivery, async (d) => {
        const res = await fetch(`${base}?crc_token=${encodeURIComponent(JSON.stringify(d))}`);
        await res.body?.cancel();
        return res.status === 400;
      }),
      { numRuns: 40 },
    );
  });
});
