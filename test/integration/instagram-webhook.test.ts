import type { Server } from 'node:http';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeGraph,
  fakeFacebookPage,
  instagramDelivery,
  signedDelivery,
  startFakeGraph,
} from '../../emulators/graph/api.js';
import { isInboundStored, recordInbound } from '../../src/care/case-inbound.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createHttpServer, listen } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { FACEBOOK_WEBHOOK_PATH, facebookWebhookHandler } from '../../src/sources/facebook/webhook.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const brand = fakeFacebookPage();
const IG = brand.instagramAccountId as string;
const MEDIA = '17900000000000001';
const ENTRY_TIME = 1_795_430_000; // 2026-11-23T09:53:20Z

const igComment = (over: Record<string, unknown> = {}) => ({
  field: 'comments',
  value: {
    from: { id: '17841400000000042', username: 'jane.doe' },
    media: { id: MEDIA, media_product_type: 'FEED' },
    id: '17860000000000001',
    text: 'Where is my refund?',
    ...over,
  },
});

describe('Instagram webhook', () => {
  let handle: DatabaseHandle;
  let graph: FakeGraph;
  let server: Server;
  let base: string;
  const clock = new ManualClock('2026-11-23T10:00:00Z');

  beforeAll(async () => {
    handle = await createTestDatabase();
    graph = await startFakeGraph({ pages: [brand], now: () => clock.now() });
    const logger = createLogger('silent');
    const handler = facebookWebhookHandler({
      pages: [brand],
      record: (message) => recordInbound(handle.db, clock, message),
      recordChange: async () => {},
      onStored: () => {},
      logger,
      clock,
      instagramChannel: 'CINSTA',
      graph: { apiUrl: graph.url, apiVersion: 'v21.0' },
      isStored: (sourceKey, externalId) => isInboundStored(handle.db, sourceKey, externalId),
    });
    server = createHttpServer({ [`POST ${FACEBOOK_WEBHOOK_PATH}`]: handler }, logger);
    base = `http://127.0.0.1:${await listen(server, 0)}${FACEBOOK_WEBHOOK_PATH}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await graph.close();
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
  });
  afterEach(() => {
    graph.calls.length = 0;
  });

  const post = async (payload: unknown) => {
    const { body, headers } = signedDelivery(brand.appSecret, payload);
    const res = await fetch(base, { method: 'POST', headers, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const rows = () => handle.db.select().from(messages).orderBy(asc(messages.id));
  const allCases = () => handle.db.select().from(cases).orderBy(asc(cases.id));

  it('turns a comment on the account media into a case in the Instagram channel, once', async () => {
    const payload = instagramDelivery(IG, [igComment()], ENTRY_TIME);
    expect(await post(payload)).toEqual({ status: 200, json: { stored: 1, changes: 0 } });
    expect(await post(payload)).toEqual({ status: 200, json: { stored: 0, changes: 0 } });
    const [message] = await rows();
    expect(message).toMatchObject({
      sourceKey: `instagram:${IG}`,
      externalId: '17860000000000001',
      authorId: '17841400000000042',
      authorHandle: 'jane.doe',
      authorUrl: 'https://www.instagram.com/jane.doe',
      text: 'Where is my refund?',
      sentAt: new Date(ENTRY_TIME * 1000),
    });
    expect(await allCases()).toMatchObject([
      { platform: 'instagram', conversationId: '17860000000000001', channelId: 'CINSTA' },
    ]);
  });

  it("keeps a reply in its thread's case and skips the account's own comments", async () => {
    await post(
      instagramDelivery(IG, [
        igComment(),
        igComment({
          id: '17860000000000002',
          from: { id: IG, username: 'brand' },
          parent_id: '17860000000000001',
          text: 'DM us',
        }),
        igComment({ id: '17860000000000003', parent_id: '17860000000000001', text: 'I did, no answer' }),
      ]),
    );
    expect((await allCases()).map((c) => c.conversationId)).toEqual(['17860000000000001']);
    expect((await rows()).map((m) => m.text)).toEqual(['Where is my refund?', 'I did, no answer']);
  });

  it('reads the words of @mentions from Graph, and stores a mention it cannot read anyway', async () => {
    graph.addInstagramComment({
      id: '17860000000000500',
      mediaId: '17900000000000777',
      username: 'someone',
      text: '@brand ruined my weekend',
    });
    graph.addMentionedMedia({
      id: '17900000000000888',
      caption: 'Thanks for nothing @brand',
      username: 'bob.b',
      permalink: 'https://www.instagram.com/p/Cxyz/',
    });
    const delivery = instagramDelivery(IG, [
      { field: 'mentions', value: { media_id: '17900000000000777', comment_id: '17860000000000500' } },
      { field: 'mentions', value: { media_id: '17900000000000888' } },
      { field: 'mentions', value: { media_id: '17900000000000999', comment_id: '17860000000000999' } },
    ]);
    const res = await post(delivery);
    expect(res.json).toEqual({ stored: 3, changes: 0 });
    // Meta redelivers: nothing new, and no second Graph lookup for what is stored.
    expect((await post(delivery)).json).toEqual({ stored: 0, changes: 0 });
    const [inComment, inCaption, unreadable] = await rows();
    expect(inComment).toMatchObject({
      externalId: '17860000000000500',
      // The mentioned comment's `username`: the card names the person, not "Instagram user".
      authorId: 'someone',
      authorHandle: 'someone',
      authorName: null,
      text: '@brand ruined my weekend',
      url: 'https://www.instagram.com/p/17900000000000777/',
    });
    expect(inCaption).toMatchObject({
      externalId: '17900000000000888',
      authorHandle: 'bob.b',
      text: 'Thanks for nothing @brand',
      url: 'https://www.instagram.com/p/Cxyz/',
    });
    expect(unreadable?.text).toContain('could not read the words');
    expect((await allCases()).map((c) => c.conversationId)).toEqual([
      'mention:17900000000000777',
      'mention:17900000000000888',
      'mention:17900000000000999',
    ]);
    const lookups = graph.callsTo('GET', `/${IG}`);
    expect(lookups).toHaveLength(3);
    expect(lookups.every((c) => c.proofValid && c.tokenIn === 'header')).toBe(true);
  });

  it('ignores accounts carebot does not watch', async () => {
    expect((await post(instagramDelivery('17841499999999999', [igComment()]))).json).toEqual({
      stored: 0,
      changes: 0,
    });
    expect(await rows()).toHaveLength(0);
  });
});
