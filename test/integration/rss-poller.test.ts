import { Writable } from 'node:stream';
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFeed, type FakeFeedItem, startFakeFeed } from '../../emulators/feed/server.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { type Duration, hours, minutes, seconds } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import type { RssFeed } from '../../src/sources/rss/config.js';
import { rssPoller } from '../../src/sources/rss/poller.js';
import type { Poller, PollOutcome } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const START = '2026-11-23T10:00:00Z';
const PATH = '/forum/latest.rss';

describe('RSS and Atom feeds → cases', () => {
  let handle: DatabaseHandle;
  let site: FakeFeed;
  let clock: ManualClock;
  let logLines: string[];

  beforeAll(async () => {
    [handle, site] = await Promise.all([createTestDatabase(), startFakeFeed()]);
  });
  afterAll(async () => {
    await Promise.all([handle?.close(), site?.close()]);
  });
  beforeEach(async () => {
    await truncateAll(handle);
    site.reset();
    clock = new ManualClock(START);
    logLines = [];
  });

  const feed = (over: Partial<RssFeed> = {}): RssFeed => ({
    name: 'forum',
    url: site.url(PATH),
    // The fake site is on 127.0.0.1.
    allowPrivateNetwork: true,
    keywords: [],
    channel: 'CFORUM',
    ...over,
  });

  /** A time relative to the test clock's now. */
  const ago = (d: Duration) => new Date(clock.now().getTime() - d);
  const later = (d: Duration) => new Date(clock.now().getTime() + d);

  /** Polls the way the runner does: the cursor of the last `ok` goes into the next poll. */
  const reader = (poller: Poller, cursor?: string) => {
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        logLines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('debug', sink);
    const state = { cursor };
    return {
      state,
      poll: async (): Promise<PollOutcome> => {
        const outcome = await poller.poll({
          cursor: state.cursor,
          clock,
          logger,
          record: (message) => recordInbound(handle.db, clock, message),
        });
        if (outcome.kind === 'ok' && outcome.cursor !== undefined) state.cursor = outcome.cursor;
        return outcome;
      },
    };
  };

  const storedMessages = () => handle.db.select().from(messages).orderBy(asc(messages.id));
  const storedCases = () => handle.db.select().from(cases).orderBy(asc(cases.id));

  const post = (n: number, over: Partial<FakeFeedItem> = {}): FakeFeedItem => ({
    id: `post-${n}`,
    title: `Post ${n}`,
    link: `https://forum.example/t/${n}`,
    content: `<p>Text of post ${n}</p>`,
    author: `user${n}`,
    ...over,
  });

  it('is keyed and labelled by the feed', () => {
    const poller = rssPoller(feed(), { everyMs: minutes(5) });
    expect(poller).toMatchObject({ key: 'rss:forum', label: 'feed forum', everyMs: minutes(5) });
  });

  it('turns a new RSS item into a case with its text, link and author', async () => {
    site.setFeed(PATH, { type: 'rss', items: [post(1, { published: ago(hours(2)) })] });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });

    clock.advance(minutes(5));
    const published = ago(minutes(1));
    site.setFeed(PATH, {
      type: 'rss',
      items: [
        {
          id: 'https://forum.example/t/42#p1',
          title: 'Order never arrived',
          link: 'https://forum.example/t/42',
          content: '<p>I paid &amp; waited <b>two weeks</b>.</p><p>Where is it?</p>',
          author: 'Jane Doe',
          published,
        },
        post(1, { published: ago(hours(2)) }),
      ],
    });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });

    const [row, ...rest] = await storedMessages();
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      kind: 'inbound',
      sourceKey: 'rss:forum',
      externalId: 'https://forum.example/t/42#p1',
      authorId: 'Jane Doe',
      authorName: 'Jane Doe',
      text: 'Order never arrived\n\nI paid & waited two weeks.\n\nWhere is it?',
      url: 'https://forum.example/t/42',
    });
    expect(row?.sentAt.toISOString()).toBe(
      new Date(Math.floor(published.getTime() / 1000) * 1000).toISOString(),
    );
    expect(await storedCases()).toMatchObject([
      {
        sourceKey: 'rss:forum',
        platform: 'rss',
        conversationId: 'https://forum.example/t/42#p1',
        channelId: 'CFORUM',
      },
    ]);
  });

  it('turns a new Atom entry into a case', async () => {
    site.setFeed(PATH, { type: 'atom', items: [] });
    const r = reader(rssPoller(feed({ name: 'blog' }), { everyMs: minutes(5) }));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });

    clock.advance(minutes(5));
    site.setFeed(PATH, {
      type: 'atom',
      items: [
        {
          id: 'tag:blog.example,2026:comment-7',
          title: 'Support &amp; billing',
          link: 'https://blog.example/2026/11/launch#comment-7',
          content: '<div>Your app <i>crashes</i> on start&hellip;</div>',
          author: 'Sam Lee',
          published: ago(seconds(30)),
        },
      ],
    });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });
    expect(await storedMessages()).toMatchObject([
      {
        sourceKey: 'rss:blog',
        externalId: 'tag:blog.example,2026:comment-7',
        authorId: 'Sam Lee',
        authorName: 'Sam Lee',
        text: 'Support & billing\n\nYour app crashes on start…',
        url: 'https://blog.example/2026/11/launch#comment-7',
      },
    ]);
  });

  it('takes only what is new on the first poll, and not on the second either', async () => {
    const old = [
      post(1, { published: ago(minutes(10)) }),
      post(2, { published: ago(hours(20)) }),
      post(3, { published: ago(hours(72)) }),
      post(4, { published: undefined }),
    ];
    // A server without validators, so every poll reads and weighs every item.
    site.setFeed(PATH, { type: 'rss', items: old }, { conditional: false });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });
    expect(JSON.parse(r.state.cursor ?? '{}')).toMatchObject({ since: new Date(START).toISOString() });

    clock.advance(minutes(5));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });

    clock.advance(minutes(5));
    site.setFeed(
      PATH,
      {
        type: 'rss',
        items: [post(5, { published: ago(minutes(2)) }), post(6, { published: undefined }), ...old],
      },
      { conditional: false },
    );
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 2 });
    expect((await storedMessages()).map((m) => m.externalId)).toEqual(['post-5', 'post-6']);
  });

  it('stores nothing twice when polled again', async () => {
    site.setFeed(PATH, { type: 'rss', items: [] }, { conditional: false });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }));
    await r.poll();
    clock.advance(minutes(5));
    const items = [post(2, { published: ago(minutes(1)) }), post(1, { published: ago(minutes(3)) })];
    site.setFeed(PATH, { type: 'rss', items }, { conditional: false });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 2 });
    clock.advance(minutes(5));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });
    // Polled from a stale cursor (another instance, a restart before the cursor was saved): still no duplicates.
    const stale = reader(rssPoller(feed(), { everyMs: minutes(5) }), r.state.cursor);
    expect(await stale.poll()).toMatchObject({ kind: 'ok', stored: 0 });
    expect((await storedMessages()).map((m) => m.externalId)).toEqual(['post-1', 'post-2']);
    expect(await storedCases()).toHaveLength(2);
  });

  it('still takes an item that shows up late with an earlier date', async () => {
    site.setFeed(PATH, { type: 'rss', items: [] });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }));
    await r.poll();
    clock.advance(hours(2));
    site.setFeed(PATH, { type: 'rss', items: [post(1, { published: ago(minutes(1)) })] });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });
    clock.advance(minutes(5));
    // Held in moderation: dated before the newest item already read, published only now.
    site.setFeed(PATH, {
      type: 'rss',
      items: [post(1, { published: ago(minutes(6)) }), post(2, { published: ago(minutes(90)) })],
    });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });
    expect((await storedMessages()).map((m) => m.externalId)).toEqual(['post-1', 'post-2']);
  });

  it('sends a conditional GET with a real User-Agent, and keeps the cursor on 304', async () => {
    site.setFeed(PATH, { type: 'rss', items: [post(1, { published: ago(hours(1)) })] });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }));
    const first = await r.poll();
    expect(first.kind).toBe('ok');
    const [firstRequest] = site.requestsTo(PATH);
    expect(firstRequest?.headers['user-agent']).toBe('carebot/0.1 (+social customer care; RSS reader)');
    expect(firstRequest?.headers.accept).toBe(
      'application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8',
    );
    expect(firstRequest?.headers['if-none-match']).toBeUndefined();
    const cursor = JSON.parse(r.state.cursor ?? '{}') as { etag?: string; lastModified?: string };
    expect(cursor.etag).toMatch(/^".+"$/);
    expect(cursor.lastModified).toMatch(/GMT$/);

    clock.advance(minutes(5));
    const before = r.state.cursor;
    expect(await r.poll()).toEqual({ kind: 'ok', cursor: before, stored: 0 });
    const second = site.requestsTo(PATH)[1];
    expect(second?.headers['if-none-match']).toBe(cursor.etag);
    expect(second?.headers['if-modified-since']).toBe(cursor.lastModified);
    expect(second?.status).toBe(304);

    // A changed feed gets a new ETag, and the new item is read.
    site.setFeed(PATH, {
      type: 'rss',
      items: [post(2, { published: ago(seconds(10)) }), post(1, { published: ago(hours(1)) })],
    });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });
    expect(site.requestsTo(PATH)[2]?.status).toBe(200);
    expect(JSON.parse(r.state.cursor ?? '{}').etag).not.toBe(cursor.etag);
  });

  it('sends a custom User-Agent when given one', async () => {
    site.setFeed(PATH, { type: 'atom', items: [] });
    await reader(rssPoller(feed(), { everyMs: minutes(5), userAgent: 'acme-care/2.0' })).poll();
    expect(site.requestsTo(PATH)[0]?.headers['user-agent']).toBe('acme-care/2.0');
  });

  it('opens cases only for items that mention a keyword', async () => {
    site.setFeed(PATH, { type: 'rss', items: [] });
    const r = reader(
      rssPoller(feed({ keywords: ['refund', 'late delivery', 'ÄRGER'] }), { everyMs: minutes(5) }),
    );
    await r.poll();
    clock.advance(minutes(5));
    site.setFeed(PATH, {
      type: 'rss',
      items: [
        post(1, { title: 'Where is my REFUND?', published: ago(minutes(1)) }),
        post(2, { title: 'Refunded already, thanks', published: ago(minutes(1)) }),
        post(3, {
          title: 'Shipping',
          content: '<p>Another <b>late</b>\n delivery.</p>',
          published: ago(minutes(1)),
        }),
        post(4, { title: 'Nice weather today', published: ago(minutes(1)) }),
        post(5, { title: 'Nur Ärger mit der App', published: ago(minutes(1)) }),
      ],
    });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 3 });
    expect((await storedMessages()).map((m) => m.externalId).sort()).toEqual(['post-1', 'post-3', 'post-5']);
    // A skipped item is logged at debug level, by id.
    expect(logLines.join('')).toContain('"id":"post-4"');
  });

  it('backfills older items on the first poll, oldest first, with progress in the log', async () => {
    const items = [
      post(1, { published: ago(hours(1)) }),
      post(2, { published: ago(hours(30)) }),
      post(3, { published: ago(hours(72)) }),
      post(4, { published: undefined }),
    ];
    site.setFeed(PATH, { type: 'rss', items }, { conditional: false });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5), backfillMs: hours(48) }));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 2 });
    expect((await storedMessages()).map((m) => m.externalId)).toEqual(['post-2', 'post-1']);
    expect(logLines.join('')).toContain('backfill: 2 stored');

    // The items older than the backfill stay out later too.
    clock.advance(minutes(5));
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });
    clock.advance(hours(30));
    site.setFeed(PATH, { type: 'rss', items: [post(5, { published: ago(minutes(1)) }), ...items] });
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });
    expect(await storedMessages()).toHaveLength(3);
  });

  it.each([401, 403])(
    'reports HTTP %i as a credential problem: carebot reads public feeds only',
    async (status) => {
      site.failNext(PATH, { status });
      const outcome = await reader(rssPoller(feed(), { everyMs: minutes(5) })).poll();
      expect(outcome).toEqual({
        kind: 'auth_failed',
        reason: `feed "forum" asks for a login (HTTP ${status})`,
        hint: expect.stringMatching(/only public feeds.*remove "forum"/),
      });
    },
  );

  it('waits for Retry-After on 429 and 503, and keeps the cursor', async () => {
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }), 'kept');
    site.failNext(PATH, { status: 429, headers: { 'retry-after': '120' } });
    expect(await r.poll()).toEqual({ kind: 'rate_limited', retryAt: later(seconds(120)) });

    site.failNext(PATH, { status: 503, headers: { 'retry-after': '30' } });
    expect(await r.poll()).toEqual({ kind: 'rate_limited', retryAt: later(seconds(30)) });

    const at = later(minutes(10));
    site.failNext(PATH, { status: 429, headers: { 'retry-after': at.toUTCString() } });
    expect(await r.poll()).toEqual({ kind: 'rate_limited', retryAt: at });

    // No Retry-After on a 429: the next regular poll.
    site.failNext(PATH, { status: 429 });
    expect(await r.poll()).toEqual({ kind: 'rate_limited', retryAt: later(minutes(5)) });
    expect(r.state.cursor).toBe('kept');
  });

  it('fails on invalid XML, naming the feed without quoting the body', async () => {
    site.setRaw(PATH, '<rss version="2.0"><channel><item><title>secret-looking text</item></channel></rss>');
    const outcome = await reader(rssPoller(feed(), { everyMs: minutes(5) })).poll();
    expect(outcome).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('feed "forum" is not a valid RSS'),
    });
    expect(JSON.stringify(outcome)).not.toContain('secret-looking');
    expect(logLines.join('')).not.toContain('secret-looking');

    site.setRaw(PATH, '<!doctype html><html><body>Login</body></html>', 'text/html');
    expect(await reader(rssPoller(feed(), { everyMs: minutes(5) })).poll()).toMatchObject({ kind: 'failed' });
  });

  it('fails plainly on 404, 410, 5xx, a dead address and a body over 5 MiB', async () => {
    const poll = () => reader(rssPoller(feed(), { everyMs: minutes(5) })).poll();
    expect(await poll()).toEqual({
      kind: 'failed',
      reason: 'feed "forum" is not there any more (HTTP 404): check its url in sources.rss.feeds',
    });
    site.failNext(PATH, { status: 410 });
    expect(await poll()).toMatchObject({ kind: 'failed', reason: expect.stringContaining('HTTP 410') });
    site.failNext(PATH, { status: 502 });
    expect(await poll()).toEqual({
      kind: 'failed',
      reason: 'feed "forum" answered with an error (HTTP 502)',
    });
    site.failNext(PATH, { status: 503 });
    expect(await poll()).toMatchObject({ kind: 'failed' });

    const dead = await reader(
      rssPoller(feed({ url: 'http://127.0.0.1:1/feed' }), { everyMs: minutes(5) }),
    ).poll();
    expect(dead).toEqual({
      kind: 'failed',
      reason: expect.stringContaining('feed "forum" could not be reached'),
    });

    site.setRaw(PATH, Buffer.alloc(5 * 1024 * 1024 + 1, 0x20));
    expect(await poll()).toEqual({
      kind: 'failed',
      reason: 'feed "forum" is larger than 5 MiB, more than carebot reads',
    });
  });

  it('reads a feed in the encoding its XML declaration names', async () => {
    site.setFeed(PATH, { type: 'rss', items: [] });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }));
    await r.poll();
    clock.advance(minutes(5));
    const xml =
      '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Forum</title>' +
      `<item><guid>p-1</guid><title>Lieferung fehlt</title><description>Grüße, Jürgen</description><pubDate>${ago(minutes(1)).toUTCString()}</pubDate></item>` +
      '</channel></rss>';
    site.setRaw(PATH, Buffer.from(xml, 'latin1'), 'application/xml');
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 1 });
    expect((await storedMessages())[0]?.text).toBe('Lieferung fehlt\n\nGrüße, Jürgen');
  });

  it('reads the feed as new when the stored cursor is unreadable', async () => {
    site.setFeed(PATH, { type: 'rss', items: [post(1, { published: ago(hours(1)) })] });
    const r = reader(rssPoller(feed(), { everyMs: minutes(5) }), 'not json');
    expect(await r.poll()).toMatchObject({ kind: 'ok', stored: 0 });
    expect(JSON.parse(r.state.cursor ?? '{}')).toMatchObject({ since: new Date(START).toISOString() });
    expect(logLines.join('')).toContain('cursor of the feed is unreadable');
  });
});
