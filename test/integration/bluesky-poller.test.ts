import { Writable } from 'node:stream';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  credentialsOf,
  didOf,
  type FakeBluesky,
  fakeBlueskyAccount,
  startFakeBluesky,
} from '../../emulators/bluesky/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { hours, minutes, seconds } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { BlueskyClient } from '../../src/sources/bluesky/client.js';
import type { BlueskyAccount } from '../../src/sources/bluesky/config.js';
import {
  type BlueskyPollerOptions,
  blueskyNotificationsPoller,
  blueskySearchPoller,
} from '../../src/sources/bluesky/poller.js';
import type { PollContext, Poller, PollOutcome } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const account = fakeBlueskyAccount();
const BRAND_DID = didOf('acme.bsky.social');

describe('Bluesky pollers', () => {
  let handle: DatabaseHandle;
  let bsky: FakeBluesky;
  let clock: ManualClock;
  let logs: string[];

  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    clock = new ManualClock('2026-11-23T10:00:00Z');
    bsky = await startFakeBluesky({ credentials: [credentialsOf(account)], now: () => clock.now() });
    bsky.addActor({ handle: 'jane.bsky.social', displayName: 'Jane Doe', followers: 12_345 });
    bsky.addActor({ handle: 'bob.bsky.social', followers: 3 });
    logs = [];
  });
  afterEach(async () => {
    await bsky.close();
  });

  const options = (over: Partial<BlueskyPollerOptions> = {}): BlueskyPollerOptions => ({
    serviceUrl: bsky.url,
    everyMs: minutes(1),
    ...over,
  });
  const context = (cursor: string | undefined): PollContext => ({
    cursor,
    clock,
    logger: createLogger(
      'debug',
      new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    ),
    record: (message) => recordInbound(handle.db, clock, message),
  });
  const ok = (outcome: PollOutcome) => {
    if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
    return outcome;
  };
  const stored = () => handle.db.select().from(messages).orderBy(asc(messages.id));
  const notifications = (acc: BlueskyAccount = account, opts = options()) =>
    blueskyNotificationsPoller(acc, opts, new BlueskyClient(acc, opts.serviceUrl));
  /** A poller that has made its first poll, so it reads everything after `cursor`. */
  const started = async (poller: Poller = notifications()) => {
    const first = ok(await poller.poll(context(undefined)));
    clock.advance(seconds(30));
    return { poller, cursor: first.cursor };
  };

  it('turns a mention into a case with the author, followers, text and link', async () => {
    const { poller, cursor } = await started();
    const post = bsky.addPost({
      author: 'jane.bsky.social',
      text: '@acme.bsky.social my order <#123> never arrived & nobody answers',
    });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(1);

    const [message] = await stored();
    const rkey = post.uri.split('/').at(-1);
    expect(message).toMatchObject({
      sourceKey: 'bluesky:acme.bsky.social',
      externalId: post.uri,
      authorId: didOf('jane.bsky.social'),
      authorName: 'Jane Doe',
      authorHandle: 'jane.bsky.social',
      authorUrl: 'https://bsky.app/profile/jane.bsky.social',
      text: '@acme.bsky.social my order <#123> never arrived & nobody answers',
      url: `https://bsky.app/profile/jane.bsky.social/post/${rkey}`,
      sentAt: clock.now(),
    });
    const [row] = await handle.db.select().from(cases);
    expect(row).toMatchObject({ platform: 'bluesky', conversationId: post.uri, channelId: 'C0BSKY0001' });
    expect(bsky.callsTo('app.bsky.actor.getProfiles')).toHaveLength(1);
    expect(bsky.callsTo('com.atproto.server.createSession')).toHaveLength(1);
    expect(poller.key).toBe('bluesky:acme.bsky.social:notifications');
    expect(poller.label).toBe('Bluesky account @acme.bsky.social');
  });

  it("joins replies to the thread root's case, and ignores likes, follows and the brand's own posts", async () => {
    const { poller, cursor } = await started();
    const root = bsky.addPost({ author: 'jane.bsky.social', text: '@acme.bsky.social the app crashes' });
    clock.advance(seconds(5));
    const own = bsky.addPost({ author: BRAND_DID, text: 'Sorry Jane, which version?', replyTo: root });
    clock.advance(seconds(5));
    const answer = bsky.addPost({ author: 'jane.bsky.social', text: '4.2.1 on Android', replyTo: own });
    bsky.addOtherNotification({ reason: 'like', authorDid: didOf('bob.bsky.social'), subjectUri: own.uri });
    bsky.addOtherNotification({ reason: 'follow', authorDid: didOf('bob.bsky.social') });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(2);
    const rows = await stored();
    expect(rows.map((m) => m.externalId)).toEqual([root.uri, answer.uri]);
    expect(new Set(rows.map((m) => m.caseId)).size).toBe(1);
    const [row] = await handle.db.select().from(cases);
    expect(row?.conversationId).toBe(root.uri);
  });

  it('says a quote quotes the brand', async () => {
    const { poller, cursor } = await started();
    const brandPost = bsky.addPost({ author: BRAND_DID, text: 'New release is out' });
    const quote = bsky.addPost({
      author: 'bob.bsky.social',
      text: 'and it broke my login',
      quote: brandPost,
    });
    ok(await poller.poll(context(cursor)));
    const [message] = await stored();
    expect(message).toMatchObject({ externalId: quote.uri, facts: ['quotes your post'] });
    const [row] = await handle.db.select().from(cases);
    expect(row?.conversationId).toBe(quote.uri);
  });

  it('takes nothing old on the first poll, then what is new since it, across overlapping polls', async () => {
    bsky.addPost({
      author: 'jane.bsky.social',
      text: '@acme.bsky.social old complaint',
      createdAt: '2026-11-23T09:00:00Z',
    });
    const poller = notifications();
    const first = ok(await poller.poll(context(undefined)));
    expect(first.stored).toBe(0);
    expect(JSON.parse(first.cursor ?? '')).toEqual({ notifications: '2026-11-23T09:00:00.001Z' });
    expect(logs.join('')).toContain('first poll');

    clock.advance(minutes(1));
    const fresh = bsky.addPost({ author: 'jane.bsky.social', text: '@acme.bsky.social new one' });
    const second = ok(await poller.poll(context(first.cursor)));
    expect(second.stored).toBe(1);
    // The same cursor again (an overlapping poll on another instance, a restart before it was saved).
    expect(ok(await poller.poll(context(first.cursor))).stored).toBe(0);
    expect(ok(await poller.poll(context(second.cursor)))).toEqual({
      kind: 'ok',
      cursor: undefined,
      stored: 0,
    });
    expect((await stored()).map((m) => m.externalId)).toEqual([fresh.uri]);
  });

  it('continues from the saved cursor after a restart: a new client signs in again and takes only what is new', async () => {
    const { cursor } = await started();
    const before = bsky.addPost({ author: 'jane.bsky.social', text: '@acme.bsky.social before the restart' });
    ok(await notifications().poll(context(cursor)));
    clock.advance(minutes(3));
    const during = bsky.addPost({
      author: 'bob.bsky.social',
      text: '@acme.bsky.social while carebot was down',
    });
    // A new process: no session, only the cursor the database kept (the one before the last poll).
    const restarted = notifications();
    expect(ok(await restarted.poll(context(cursor))).stored).toBe(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([before.uri, during.uri]);
    expect(bsky.callsTo('com.atproto.server.createSession').length).toBe(3);
  });

  it('reads back page after page to the cursor', async () => {
    const { poller, cursor } = await started();
    const made = [];
    for (let i = 0; i < 230; i++) {
      clock.advance(seconds(1));
      made.push(bsky.addPost({ author: 'bob.bsky.social', text: `@acme.bsky.social number ${i}` }));
    }
    expect(ok(await poller.poll(context(cursor))).stored).toBe(230);
    expect(bsky.callsTo('app.bsky.notification.listNotifications').length).toBeGreaterThanOrEqual(4);
    expect((await stored()).map((m) => m.externalId)).toEqual(made.map((p) => p.uri));
  });

  it('imports the backfill window on the first poll only', async () => {
    bsky.addPost({
      author: 'jane.bsky.social',
      text: '@acme.bsky.social too old',
      createdAt: '2026-11-21T09:00:00Z',
    });
    const recent = bsky.addPost({
      author: 'jane.bsky.social',
      text: '@acme.bsky.social recent',
      createdAt: '2026-11-23T08:00:00Z',
    });
    const poller = notifications(account, options({ backfillMs: hours(24) }));
    expect(ok(await poller.poll(context(undefined))).stored).toBe(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([recent.uri]);
  });

  it('finds keyword posts with searchPosts, newest first since the cursor', async () => {
    const acc = { ...account, keywords: ['acme refund'] };
    const poller = blueskySearchPoller(acc, options(), new BlueskyClient(acc, bsky.url));
    const first = ok(await poller.poll(context(undefined)));
    clock.advance(minutes(1));
    const hit = bsky.addPost({ author: 'bob.bsky.social', text: 'Still waiting for my ACME refund' });
    bsky.addPost({ author: 'bob.bsky.social', text: 'unrelated' });
    bsky.addPost({ author: BRAND_DID, text: 'How to get an acme refund: a thread' });
    expect(ok(await poller.poll(context(first.cursor))).stored).toBe(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([hit.uri]);
    const call = bsky.callsTo('app.bsky.feed.searchPosts').at(-1);
    expect(call?.query).toMatchObject({ q: 'acme refund', sort: 'latest', limit: '100' });
    expect(call?.query.since).toBeDefined();
  });

  it('refreshes an expired access token with refreshSession instead of signing in again', async () => {
    const { poller, cursor } = await started();
    bsky.expireAccessTokens();
    bsky.addPost({ author: 'jane.bsky.social', text: '@acme.bsky.social hello?' });
    expect(ok(await poller.poll(context(cursor))).stored).toBe(1);
    expect(bsky.callsTo('com.atproto.server.refreshSession')).toHaveLength(1);
    expect(bsky.callsTo('com.atproto.server.createSession')).toHaveLength(1);
  });

  it('reports a revoked app password as auth_failed, without the password', async () => {
    const { poller, cursor } = await started();
    bsky.revokeAppPassword('acme.bsky.social');
    const outcome = await poller.poll(context(cursor));
    expect(outcome).toMatchObject({ kind: 'auth_failed' });
    if (outcome.kind !== 'auth_failed') return;
    expect(outcome.reason).toContain('acme.bsky.social');
    expect(outcome.hint).toContain('app_password of the account "brand"');
    expect(JSON.stringify(outcome)).not.toContain(account.appPassword);
    expect(logs.join('')).not.toContain(account.appPassword);
  });

  it('reports a 429 as rate_limited until ratelimit-reset, without calling again', async () => {
    const { poller, cursor } = await started();
    const reset = Math.floor(clock.now().getTime() / 1000) + 300;
    bsky.failNext('app.bsky.notification.listNotifications', {
      status: 429,
      headers: { 'ratelimit-reset': String(reset) },
    });
    const outcome = await poller.poll(context(cursor));
    expect(outcome).toEqual({ kind: 'rate_limited', retryAt: new Date(reset * 1000) });
    const before = bsky.calls.length;
    clock.advance(minutes(1));
    expect((await poller.poll(context(cursor))).kind).toBe('rate_limited');
    expect(bsky.calls.length).toBe(before);
    clock.advance(minutes(5));
    expect((await poller.poll(context(cursor))).kind).toBe('ok');
  });

  it('reports a 5xx as failed and keeps the cursor', async () => {
    const { poller, cursor } = await started();
    bsky.failNext('app.bsky.notification.listNotifications', { status: 502 });
    expect(await poller.poll(context(cursor))).toEqual({
      kind: 'failed',
      reason: 'Bluesky had an error (HTTP 502)',
    });
  });
});
