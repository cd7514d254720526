import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeGraph, fakeFacebookPage, startFakeGraph } from '../../emulators/graph/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { minutes, seconds } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { FEED_FIELDS, facebookFeedPoller } from '../../src/sources/facebook/poller.js';
import type { PollContext, PollOutcome } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const page = fakeFacebookPage();
const brandAuthor = { id: page.pageId, name: 'Brand' };
const jane = { id: '6100000000000042', name: 'Jane Doe' };
const bob = { id: '6100000000000043', name: 'Bob' };

describe('Facebook feed poller', () => {
  let handle: DatabaseHandle;
  let graph: FakeGraph;
  let clock: ManualClock;

  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    clock = new ManualClock('2026-11-23T10:00:00Z');
    graph = await startFakeGraph({ pages: [page], now: () => clock.now() });
  });
  afterEach(async () => {
    await graph.close();
  });

  const poller = () =>
    facebookFeedPoller(page, { apiUrl: graph.url, apiVersion: 'v21.0', everyMs: minutes(1) });
  const context = (cursor: string | undefined): PollContext => ({
    cursor,
    clock,
    logger: createLogger('silent'),
    record: (message) => recordInbound(handle.db, clock, message),
  });
  const ok = (outcome: PollOutcome) => {
    if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
    return outcome;
  };
  const started = async () => {
    const first = ok(await poller().poll(context(undefined)));
    expect(first.stored).toBe(0);
    return first.cursor;
  };
  const rows = () => handle.db.select().from(messages).orderBy(asc(messages.id));

  it('starts from now, then turns new comments and visitor posts into cases', async () => {
    const menu = graph.addPost({
      pageId: page.pageId,
      from: brandAuthor,
      message: 'New menu',
      createdTime: '2026-11-22T09:00:00Z',
    });
    graph.addComment({
      postId: menu.id,
      from: jane,
      message: 'Old complaint',
      createdTime: '2026-11-22T10:00:00Z',
    });
    const cursor = await started();
    expect(JSON.parse(cursor ?? '')).toEqual({ since: Date.parse('2026-11-23T10:00:00Z') / 1000 });
    expect(poller()).toMatchObject({ key: `facebook:${page.pageId}:feed`, label: 'Facebook Page brand' });

    clock.advance(minutes(1));
    const top = graph.addComment({
      postId: menu.id,
      from: jane,
      message: 'Cold fries again',
      createdTime: clock.now(),
    });
    graph.addComment({
      postId: menu.id,
      parentId: top.id,
      from: brandAuthor,
      message: 'Sorry!',
      createdTime: clock.now(),
    });
    clock.advance(seconds(10));
    graph.addComment({
      postId: menu.id,
      parentId: top.id,
      from: jane,
      message: 'And cold burger',
      createdTime: clock.now(),
    });
    graph.addComment({ postId: menu.id, from: bob, message: 'Mine were fine', createdTime: clock.now() });
    const visitor = graph.addPost({
      pageId: page.pageId,
      from: jane,
      message: 'Store closed early',
      createdTime: clock.now(),
    });
    graph.addComment({ postId: visitor.id, from: bob, message: 'Same for me', createdTime: clock.now() });
    clock.advance(seconds(20));

    const outcome = ok(await poller().poll(context(cursor)));
    expect(outcome.stored).toBe(5);
    expect(JSON.parse(outcome.cursor ?? '')).toEqual({ since: Date.parse('2026-11-23T10:01:10Z') / 1000 });
    const [call] = graph.callsTo('GET', `/${page.pageId}/feed`).slice(-1);
    expect(call).toMatchObject({ version: 'v21.0', proofValid: true, tokenIn: 'header' });
    expect(call?.query.fields).toBe(FEED_FIELDS);

    const stored = await rows();
    // Oldest first; at the same second, a post before its comments and a thread in its order.
    expect(stored.map((m) => m.text)).toEqual([
      'Cold fries again',
      'Store closed early',
      'Same for me',
      'And cold burger',
      'Mine were fine',
    ]);
    expect(stored[0]).toMatchObject({
      sourceKey: `facebook:${page.pageId}`,
      authorId: jane.id,
      authorName: 'Jane Doe',
    });
    expect(stored[0]?.url).toContain(`comment_id=${top.id}`);
    const all = await handle.db.select().from(cases).orderBy(asc(cases.id));
    expect(all.map((c) => c.conversationId)).toEqual([top.id, visitor.id, stored[4]?.externalId]);

    // Nothing new: the cursor stays, and what was read again is not stored twice.
    clock.advance(minutes(1));
    expect(ok(await poller().poll(context(outcome.cursor)))).toEqual({
      kind: 'ok',
      cursor: undefined,
      stored: 0,
    });
    expect(await rows()).toHaveLength(5);
  });

  it('reads further pages while their posts are new, without sending the token in a URL', async () => {
    const cursor = await started();
    clock.advance(minutes(1));
    for (let n = 0; n < 30; n += 1) {
      graph.addPost({
        pageId: page.pageId,
        from: jane,
        message: `post ${n}`,
        createdTime: new Date(clock.now().getTime() + n * 1000),
      });
    }
    clock.advance(minutes(1));
    expect(ok(await poller().poll(context(cursor))).stored).toBe(30);
    const feedCalls = graph.callsTo('GET', `/${page.pageId}/feed`);
    expect(feedCalls.slice(1).map((c) => c.query.after !== undefined)).toEqual([false, true]);
    expect(feedCalls.every((c) => c.tokenIn === 'header' && c.query.access_token === undefined)).toBe(true);
  });

  it('pauses on an expired token and backs off when throttled', async () => {
    graph.failNext(`/${page.pageId}/feed`, {
      error: { code: 190, error_subcode: 463, message: 'Error validating access token: Session has expired' },
    });
    const expired = await poller().poll(context(undefined));
    expect(expired).toMatchObject({ kind: 'auth_failed' });
    if (expired.kind !== 'auth_failed') return;
    expect(expired.reason).toContain('The Facebook Page token of "brand" has expired');
    expect(expired.hint).toContain('Generate a new Page access token');
    expect(`${expired.reason} ${expired.hint}`).not.toContain(page.pageToken);

    const cursor = await started();
    graph.failNext(`/${page.pageId}/feed`, {
      error: { code: 4, message: '(#4) Application request limit reached' },
    });
    expect(await poller().poll(context(cursor))).toEqual({
      kind: 'rate_limited',
      retryAt: new Date(clock.now().getTime() + minutes(5)),
    });
    graph.failNext(`/${page.pageId}/feed`, {
      error: { code: 17, message: '(#17) User request limit reached' },
      headers: {
        'x-app-usage': '{"call_count":100,"total_time":20,"total_cputime":20}',
        'retry-after': '90',
      },
    });
    expect(await poller().poll(context(cursor))).toEqual({
      kind: 'rate_limited',
      retryAt: new Date(clock.now().getTime() + seconds(90)),
    });
    graph.failNext(`/${page.pageId}/feed`, {
      error: { code: 10, message: '(#10) Requires pages_read_engagement permission' },
    });
    expect(await poller().poll(context(cursor))).toMatchObject({
      kind: 'auth_failed',
      hint: expect.stringContaining('pages_read_engagement'),
    });
    graph.failNext(`/${page.pageId}/feed`, {
      status: 503,
      error: { code: 2, message: 'Service temporarily unavailable' },
    });
    expect(await poller().poll(context(cursor))).toMatchObject({ kind: 'failed' });
    expect(ok(await poller().poll(context('not json'))).stored).toBe(0);
  });
});
