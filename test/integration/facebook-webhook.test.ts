import type { Server } from 'node:http';
import { asc, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  fakeFacebookPage,
  pageDelivery,
  signedDelivery,
  signFacebookBody,
} from '../../emulators/graph/api.js';
import { conversationOfMessage, recordInbound } from '../../src/care/case-inbound.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createHttpServer, listen } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import type { InboundChange } from '../../src/sources/facebook/changes.js';
import { FACEBOOK_WEBHOOK_PATH, facebookWebhookHandler } from '../../src/sources/facebook/webhook.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const brand = fakeFacebookPage();
// A second Page of another Meta app, routed to its own channel.
const outlet = fakeFacebookPage({
  name: 'outlet',
  pageId: '104000000000000002',
  pageToken: 'EAAtest-page-token-of-outlet',
  appSecret: 'app-secret-of-outlet',
  verifyToken: 'verify-token-of-outlet',
  instagramAccountId: undefined,
  channel: 'COUTLET',
});
const POST_ID = `${brand.pageId}_9007199254740993001`;
const COMMENT_ID = '9007199254740993001_9007199254740993111';
const jane = { id: '6100000000000042', name: 'Jane Doe' };
const CREATED = 1_795_428_000; // 2026-11-23T09:20:00Z

const comment = (over: Record<string, unknown> = {}) => ({
  from: jane,
  post: { id: POST_ID, permalink_url: `https://www.facebook.com/brand/posts/9007199254740993001` },
  message: 'My order never arrived',
  post_id: POST_ID,
  comment_id: COMMENT_ID,
  parent_id: POST_ID,
  created_time: CREATED,
  item: 'comment',
  verb: 'add',
  ...over,
});

describe('Facebook webhook', () => {
  let handle: DatabaseHandle;
  let server: Server;
  let base: string;
  let notified: number;
  let changes: InboundChange[];
  const clock = new ManualClock('2026-11-23T10:00:00Z');

  beforeAll(async () => {
    handle = await createTestDatabase();
    const logger = createLogger('silent');
    const handler = facebookWebhookHandler({
      pages: [brand, outlet],
      record: (message) => recordInbound(handle.db, clock, message),
      recordChange: async (change) => {
        changes.push(change);
      },
      onStored: () => {
        notified += 1;
      },
      logger,
      clock,
      conversationOf: (sourceKey, id) => conversationOfMessage(handle.db, sourceKey, id),
    });
    server = createHttpServer(
      { [`GET ${FACEBOOK_WEBHOOK_PATH}`]: handler, [`POST ${FACEBOOK_WEBHOOK_PATH}`]: handler },
      logger,
    );
    base = `http://127.0.0.1:${await listen(server, 0)}${FACEBOOK_WEBHOOK_PATH}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    notified = 0;
    changes = [];
  });

  const post = async (payload: unknown, secret = brand.appSecret) => {
    const { body, headers } = signedDelivery(secret, payload);
    const res = await fetch(base, { method: 'POST', headers, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const rows = () => handle.db.select().from(messages).orderBy(asc(messages.id));
  const allCases = () => handle.db.select().from(cases).orderBy(asc(cases.id));
  const count = async () => {
    const [row] = await handle.db.select({ n: sql<number>`count(*)::int` }).from(messages);
    return row?.n ?? 0;
  };

  it('answers the verification handshake with the raw challenge, and refuses a wrong token', async () => {
    const ok = await fetch(
      `${base}?hub.mode=subscribe&hub.verify_token=${outlet.verifyToken}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('1158201444');

    const wrong = await fetch(`${base}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444`);
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain('1158201444');
    const noMode = await fetch(`${base}?hub.verify_token=${brand.verifyToken}&hub.challenge=1`);
    expect(noMode.status).toBe(403);
  });

  it('echoes only a challenge shaped as Meta sends it, never arbitrary text', async () => {
    const handshake = (challenge: string, token = brand.verifyToken) =>
      fetch(
        `${base}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=${encodeURIComponent(challenge)}`,
      );
    const ok = await handshake('abc_DEF-123');
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await ok.text()).toBe('abc_DEF-123');
    const payload = JSON.stringify(pageDelivery(brand.pageId, { feed: [comment()] }));
    for (const challenge of ['<script>alert(1)</script>', payload, 'a b', '1'.repeat(129), '']) {
      const res = await handshake(challenge);
      expect(res.status, challenge).toBe(400);
      const text = await res.text();
      if (challenge) expect(text).not.toContain(challenge);
    }
    // Without the verify token nothing is echoed, whatever the challenge.
    expect((await handshake('1158201444', `${brand.verifyToken}x`)).status).toBe(403);
  });

  it('refuses a bad or missing signature with 401 and stores nothing', async () => {
    const payload = pageDelivery(brand.pageId, { feed: [comment()] });
    const raw = JSON.stringify(payload);
    const send = (headers: Record<string, string>) =>
      fetch(base, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    expect((await send({ 'x-hub-signature-256': signFacebookBody('not-the-secret', raw) })).status).toBe(401);
    expect((await send({})).status).toBe(401);
    expect((await send({ 'x-hub-signature-256': 'sha256=' })).status).toBe(401);
    // The old SHA-1 header alone does not do.
    expect((await send({ 'x-hub-signature': 'sha1=0000' })).status).toBe(401);
    expect(await count()).toBe(0);
    expect(notified).toBe(0);
  });

  it('turns a comment into a case, and a redelivery into nothing new', async () => {
    const payload = pageDelivery(brand.pageId, { feed: [comment()] });
    expect(await post(payload)).toEqual({ status: 200, json: { stored: 1, changes: 0 } });
    expect(notified).toBe(1);
    const [message] = await rows();
    expect(message).toMatchObject({
      sourceKey: `facebook:${brand.pageId}`,
      externalId: COMMENT_ID,
      authorId: jane.id,
      authorName: 'Jane Doe',
      authorUrl: null,
      text: 'My order never arrived',
      url: 'https://www.facebook.com/brand/posts/9007199254740993001',
      sentAt: new Date(CREATED * 1000),
    });
    const [row] = await allCases();
    expect(row).toMatchObject({ platform: 'facebook', conversationId: COMMENT_ID, channelId: brand.channel });

    expect(await post(payload)).toEqual({ status: 200, json: { stored: 0, changes: 0 } });
    expect(await count()).toBe(1);
    expect(notified).toBe(1);
  });

  it("keeps a thread in one case, gives each commenter their own, and never stores the Page's words", async () => {
    const bob = { id: '6100000000000043', name: 'Bob' };
    await post(
      pageDelivery(brand.pageId, {
        feed: [
          comment(),
          // The Page answering in the thread: not a case.
          comment({
            comment_id: '9007199254740993001_9007199254740993112',
            parent_id: COMMENT_ID,
            from: { id: brand.pageId, name: 'Brand' },
            message: 'Sorry Jane, checking',
          }),
          // Jane again, under her comment.
          comment({
            comment_id: '9007199254740993001_9007199254740993113',
            parent_id: COMMENT_ID,
            message: 'Still nothing',
            created_time: CREATED + 60,
          }),
          // Bob, on the same Page post: a case of his own.
          comment({
            comment_id: '9007199254740993001_9007199254740993114',
            from: bob,
            message: 'Same here',
          }),
          // The Page's own post and a like: nothing.
          {
            from: { id: brand.pageId, name: 'Brand' },
            post_id: `${brand.pageId}_9007199254740993002`,
            message: 'Our new menu',
            created_time: CREATED,
            item: 'status',
            verb: 'add',
          },
          { item: 'reaction', verb: 'add', reaction_type: 'like', from: bob, post_id: POST_ID },
        ],
      }),
    );
    const all = await allCases();
    expect(all.map((c) => c.conversationId)).toEqual([COMMENT_ID, '9007199254740993001_9007199254740993114']);
    expect((await rows()).map((m) => [m.caseId, m.text])).toEqual([
      [all[0]?.id, 'My order never arrived'],
      [all[0]?.id, 'Still nothing'],
      [all[1]?.id, 'Same here'],
    ]);
  });

  it('opens a case for a visitor post and joins comments under it to that case', async () => {
    const visitorPost = `${brand.pageId}_9007199254740993050`;
    const firstComment = '9007199254740993050_9007199254740993200';
    // The post and a comment on it in one delivery: the comment finds the post stored just before.
    await post(
      pageDelivery(brand.pageId, {
        feed: [
          {
            from: jane,
            post_id: visitorPost,
            message: 'Your store in Main St was closed at 3pm',
            photos: ['https://scontent.example/closed.jpg'],
            created_time: CREATED,
            item: 'status',
            verb: 'add',
            published: 1,
          },
          comment({
            post_id: visitorPost,
            parent_id: visitorPost,
            comment_id: firstComment,
            message: 'Opening hours say 9 to 6!',
          }),
        ],
      }),
    );
    // A reply to that comment, later: it joins the comment's case, which is the post's.
    await post(
      pageDelivery(brand.pageId, {
        feed: [
          comment({
            post_id: visitorPost,
            parent_id: firstComment,
            comment_id: '9007199254740993050_9007199254740993201',
            message: 'Anyone there?',
          }),
        ],
      }),
    );
    const all = await allCases();
    expect(all).toHaveLength(1);
    expect(all[0]?.conversationId).toBe(visitorPost);
    expect((await rows()).map((m) => m.text)).toEqual([
      'Your store in Main St was closed at 3pm\n(photo) https://scontent.example/closed.jpg',
      'Opening hours say 9 to 6!',
      'Anyone there?',
    ]);
  });

  it('turns a Messenger message into a case per customer and ignores echoes', async () => {
    const psid = '7200000000000001';
    const event = (mid: string, text: string, timestamp: number, over: Record<string, unknown> = {}) => ({
      sender: { id: psid },
      recipient: { id: brand.pageId },
      timestamp,
      message: { mid, text },
      ...over,
    });
    const res = await post(
      pageDelivery(brand.pageId, {
        messaging: [
          event('m_first', 'Hi, my order #123 is late', Date.parse('2026-11-23T09:58:00Z')),
          {
            sender: { id: brand.pageId },
            recipient: { id: psid },
            timestamp: Date.parse('2026-11-23T09:59:00Z'),
            message: { mid: 'm_echo', text: 'Looking into it', is_echo: true, app_id: 1234 },
          },
          event('m_second', '', Date.parse('2026-11-23T09:59:30Z'), {
            message: {
              mid: 'm_second',
              attachments: [{ type: 'image', payload: { url: 'https://cdn.example/receipt.png' } }],
            },
          }),
          { sender: { id: psid }, recipient: { id: brand.pageId }, timestamp: 1, read: { watermark: 1 } },
        ],
      }),
    );
    expect(res.json).toEqual({ stored: 2, changes: 0 });
    const all = await allCases();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ conversationId: `messenger:${psid}`, platform: 'facebook' });
    expect((await rows()).map((m) => [m.externalId, m.authorId, m.text, m.sentAt])).toEqual([
      ['m_first', psid, 'Hi, my order #123 is late', new Date('2026-11-23T09:58:00Z')],
      ['m_second', psid, '(image) https://cdn.example/receipt.png', new Date('2026-11-23T09:59:30Z')],
    ]);
  });

  it('passes edited and removed comments on as changes, never as new cases', async () => {
    await post(pageDelivery(brand.pageId, { feed: [comment()] }));
    const res = await post(
      pageDelivery(brand.pageId, {
        feed: [
          comment({ verb: 'edited', message: 'My order never arrived (ordered Nov 20)' }),
          comment({ verb: 'remove', message: undefined }),
          // The Page editing its own comment is nobody's complaint.
          comment({
            verb: 'edited',
            comment_id: '9007199254740993001_9007199254740993112',
            from: { id: brand.pageId, name: 'Brand' },
          }),
        ],
        messaging: [
          {
            sender: { id: '7200000000000001' },
            recipient: { id: brand.pageId },
            timestamp: Date.parse('2026-11-23T09:59:00Z'),
            message_edit: { mid: 'm_first', text: 'Hi, my order #124 is late', num_edit: 1 },
          },
        ],
      }),
    );
    expect(res.json).toEqual({ stored: 0, changes: 3 });
    expect(changes).toEqual([
      {
        kind: 'edited',
        sourceKey: `facebook:${brand.pageId}`,
        externalId: COMMENT_ID,
        text: 'My order never arrived (ordered Nov 20)',
      },
      { kind: 'removed', sourceKey: `facebook:${brand.pageId}`, externalId: COMMENT_ID },
      {
        kind: 'edited',
        sourceKey: `facebook:${brand.pageId}`,
        externalId: 'm_first',
        text: 'Hi, my order #124 is late',
      },
    ]);
    expect(await count()).toBe(1);
    expect(notified).toBe(2);
  });

  it('routes each Page to its channel and takes only the Pages of the app that signed', async () => {
    const outletComment = comment({
      comment_id: '555_666',
      post_id: `${outlet.pageId}_555`,
      parent_id: undefined,
    });
    // Signed by brand's app, but for outlet's Page: ignored.
    expect((await post(pageDelivery(outlet.pageId, { feed: [outletComment] }))).json).toEqual({
      stored: 0,
      changes: 0,
    });
    expect(
      (await post(pageDelivery(outlet.pageId, { feed: [outletComment] }), outlet.appSecret)).json,
    ).toEqual({
      stored: 1,
      changes: 0,
    });
    expect((await allCases()).map((c) => [c.sourceKey, c.channelId])).toEqual([
      [`facebook:${outlet.pageId}`, 'COUTLET'],
    ]);
  });

  it('refuses unreadable and oversized bodies, and skips unreadable entries', async () => {
    const send = (raw: string) =>
      fetch(base, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signFacebookBody(brand.appSecret, raw),
        },
        body: raw,
      });
    expect((await send('{"object": ')).status).toBe(400);
    const missing = await send(JSON.stringify({ object: 'page' }));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toContain('entry');
    expect(
      (await send(JSON.stringify({ object: 'page', entry: [], pad: 'x'.repeat(1024 * 1024) }))).status,
    ).toBe(413);
    expect(
      (
        await post(
          pageDelivery(brand.pageId, {
            feed: [{ item: 'comment', verb: 'add', comment_id: 42n.toString() }],
          }),
        )
      ).json,
    ).toEqual({ stored: 1, changes: 0 });
    expect(
      (await post(pageDelivery(brand.pageId, { feed: [{ verb: 'add' }], messaging: [{ nope: 1 }] }))).json,
    ).toEqual({ stored: 0, changes: 0 });
    expect((await post({ object: 'user', entry: [{ id: '1', changes: [] }] })).status).toBe(200);
    const [stored] = await rows();
    // A comment whose author Graph withheld still opens a case, with what is known.
    expect(stored).toMatchObject({ externalId: '42', authorId: '', text: '(no text)' });
  });
});
