import { Writable } from 'node:stream';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { credentialsOf, type FakeX, fakeXAccount, startFakeX } from '../../emulators/x/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { hours, minutes } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import type { PollContext, PollOutcome } from '../../src/sources/types.js';
import { xMentionsPoller, xPollers, xSearchPoller } from '../../src/sources/x/poller.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const account = fakeXAccount();
const jane = { id: '42', username: 'jane', name: 'Jane Doe', followers: 12_345 };
const bob = { id: '43', username: 'bob', name: 'Bob', followers: 10 };
const MENTIONS = `/2/users/${account.userId}/mentions`;

describe('X pollers', () => {
  let handle: DatabaseHandle;
  let x: FakeX;
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
    x = await startFakeX({ credentials: [credentialsOf(account)], now: () => clock.now() });
    logs = [];
  });
  afterEach(async () => {
    await x.close();
  });

  const options = (over: { backfillMs?: number } = {}) => ({ apiUrl: x.url, everyMs: minutes(1), ...over });
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
  /** A poller that has already made its first poll, so it reads everything after `cursor`. */
  const started = async (poller = xMentionsPoller(account, options())) => {
    const first = ok(await poller.poll(context(undefined)));
    return { poller, cursor: first.cursor };
  };
  const mention = (text: string, over: Parameters<FakeX['addTweet']>[0] | object = {}) =>
    x.addTweet({ author: jane, text: `@brand ${text}`, mentions: [account.userId], ...over });

  it('turns a mention into a case with the author, @handle, follower count and link', async () => {
    const { poller, cursor } = await started();
    const tweet = mention('my order <#123> never arrived & nobody answers');
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(1);
    expect(JSON.parse(outcome.cursor ?? '')).toEqual({ sinceId: tweet.id });

    const [message] = await stored();
    expect(message).toMatchObject({
      sourceKey: `x:${account.userId}`,
      externalId: tweet.id,
      authorId: '42',
      authorName: 'Jane Doe',
      authorHandle: 'jane',
      authorUrl: 'https://x.com/jane',
      authorFollowers: 12_345,
      text: '@brand my order <#123> never arrived & nobody answers',
      url: `https://x.com/jane/status/${tweet.id}`,
    });
    const [row] = await handle.db.select().from(cases);
    expect(row).toMatchObject({ platform: 'x', conversationId: tweet.id, channelId: 'CXCARE' });

    const call = x.callsTo('GET', MENTIONS).at(-1);
    expect(call).toMatchObject({ oauth: true, signatureValid: true, status: 200 });
    expect(call?.query).toMatchObject({
      'tweet.fields': 'created_at,conversation_id,author_id,referenced_tweets,in_reply_to_user_id',
      expansions: 'author_id',
      'user.fields': 'username,name,public_metrics',
      max_results: '100',
    });
    expect(poller.key).toBe(`x:${account.userId}:mentions`);
    expect(poller.label).toBe('X account @brand');
  });

  it('takes only what is new on the first poll, then picks up new mentions since it', async () => {
    mention('old one');
    const newestOld = mention('old two');
    const poller = xMentionsPoller(account, options());
    const first = ok(await poller.poll(context(undefined)));
    expect(first.stored).toBe(0);
    expect(JSON.parse(first.cursor ?? '')).toEqual({ sinceId: newestOld.id });
    expect(await stored()).toHaveLength(0);
    expect(logs.join('')).toContain('first poll');

    clock.advance(minutes(1));
    const fresh = mention('new one');
    const second = ok(await poller.poll(context(first.cursor)));
    expect(second.stored).toBe(1);
    expect(x.callsTo('GET', MENTIONS).at(-1)?.query.since_id).toBe(newestOld.id);
    expect((await stored()).map((m) => m.externalId)).toEqual([fresh.id]);
    expect(JSON.parse(second.cursor ?? '')).toEqual({ sinceId: fresh.id });
  });

  it('starts from the time of the first poll when there are no posts yet', async () => {
    const poller = xMentionsPoller(account, options());
    const first = ok(await poller.poll(context(undefined)));
    expect(JSON.parse(first.cursor ?? '')).toEqual({ startTime: '2026-11-23T10:00:00Z' });
    const tweet = mention('hello?');
    const second = ok(await poller.poll(context(first.cursor)));
    expect(second.stored).toBe(1);
    expect(x.callsTo('GET', MENTIONS).at(-1)?.query.start_time).toBe('2026-11-23T10:00:00Z');
    expect(JSON.parse(second.cursor ?? '')).toEqual({ sinceId: tweet.id });
    // Nothing new: the cursor stays as it is.
    const third = ok(await poller.poll(context(second.cursor)));
    expect(third).toEqual({ kind: 'ok', cursor: undefined, stored: 0 });
  });

  it('stores nothing twice when polls overlap', async () => {
    const { poller, cursor } = await started();
    mention('one');
    mention('two');
    const a = ok(await poller.poll(context(cursor)));
    // An overlapping poll from the old cursor reads the same posts again.
    const b = ok(await poller.poll(context(cursor)));
    const c = ok(await poller.poll(context(a.cursor)));
    expect([a.stored, b.stored, c.stored]).toEqual([2, 0, 0]);
    expect(b.cursor).toBe(a.cursor);
    expect(await stored()).toHaveLength(2);
    expect(await handle.db.select().from(cases)).toHaveLength(2);
  });

  it('pages through three pages and stores oldest first before moving the cursor', async () => {
    const { poller, cursor } = await started();
    const seeded = Array.from({ length: 250 }, (_, i) =>
      mention(`complaint ${i}`, { author: i % 2 ? jane : bob, conversationId: `c-${i % 10}` }),
    );
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(250);
    const reads = x.callsTo('GET', MENTIONS).slice(1);
    expect(reads).toHaveLength(3);
    expect(reads.map((r) => r.query.pagination_token === undefined)).toEqual([true, false, false]);
    expect(reads.every((r) => r.query.start_time === '2026-11-23T10:00:00Z')).toBe(true);
    const rows = await stored();
    expect(rows.map((m) => m.externalId)).toEqual(seeded.map((t) => t.id));
    expect(new Set(rows.map((m) => m.caseId)).size).toBe(10);
    expect(JSON.parse(outcome.cursor ?? '')).toEqual({ sinceId: seeded.at(-1)?.id });
    expect(rows.find((m) => m.authorHandle === 'bob')?.authorFollowers).toBe(10);
  });

  it("ignores the account's own posts and retweets, and reads past them", async () => {
    const { poller, cursor } = await started();
    const real = mention('the app crashes');
    x.addTweet({ authorId: account.userId, text: '@brand note to self', mentions: [account.userId] });
    const retweet = x.addTweet({
      author: bob,
      text: 'RT @jane: @brand the app crashes',
      mentions: [account.userId],
      referencedTweets: [{ type: 'retweeted', id: real.id }],
    });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([real.id]);
    expect(JSON.parse(outcome.cursor ?? '')).toEqual({ sinceId: retweet.id });
  });

  it('imports older posts with a backfill, logging progress', async () => {
    mention('too old', { createdAt: new Date(clock.now().getTime() - hours(3)) });
    const a = mention('half an hour ago', { createdAt: new Date(clock.now().getTime() - minutes(30)) });
    const b = mention('ten minutes ago', { createdAt: new Date(clock.now().getTime() - minutes(10)) });
    const poller = xMentionsPoller(account, options({ backfillMs: hours(1) }));
    const outcome = ok(await poller.poll(context(undefined)));
    expect(outcome.stored).toBe(2);
    expect(x.callsTo('GET', MENTIONS)[0]?.query.start_time).toBe('2026-11-23T09:00:00Z');
    expect((await stored()).map((m) => m.externalId)).toEqual([a.id, b.id]);
    expect(JSON.parse(outcome.cursor ?? '')).toEqual({ sinceId: b.id });
    expect(logs.join('')).toContain('backfill: 2 stored');
  });

  it('waits for the reset on a 429 and leaves the cursor where it was', async () => {
    const { poller, cursor } = await started();
    mention('one');
    const reset = Math.floor(clock.now().getTime() / 1000) + 600;
    x.failNext(MENTIONS, { status: 429, headers: { 'x-rate-limit-reset': String(reset) } });
    const outcome = await poller.poll(context(cursor));
    expect(outcome).toEqual({ kind: 'rate_limited', retryAt: new Date(reset * 1000) });
    expect(await stored()).toHaveLength(0);
    // Rate limited on a later page: nothing is stored out of order, and the retry reads it all.
    Array.from({ length: 150 }, (_, i) => mention(`more ${i}`));
    x.failNext(MENTIONS, { status: 429, headers: { 'x-rate-limit-reset': String(reset) }, after: 1 });
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'rate_limited' });
    expect(await stored()).toHaveLength(0);
    const retry = ok(await poller.poll(context(cursor)));
    expect(retry.stored).toBe(151);
  });

  it('reports rejected credentials once with what to do, and never the secrets', async () => {
    const { poller, cursor } = await started();
    x.failNext(MENTIONS, { status: 401 });
    const outcome = await poller.poll(context(cursor));
    expect(outcome.kind).toBe('auth_failed');
    if (outcome.kind !== 'auth_failed') return;
    expect(outcome.reason).toContain('@brand');
    expect(outcome.hint).toMatch(/regenerate the access token and secret/);
    expect(outcome.hint).toContain('carebot.config.yaml');
    const text = JSON.stringify(outcome) + logs.join('');
    for (const secret of [
      account.consumerSecret,
      account.accessSecret,
      account.accessToken,
      account.consumerKey,
    ]) {
      expect(text).not.toContain(secret);
    }
    // The default account's credentials live in the environment.
    const fromEnv = xMentionsPoller({ ...account, name: 'default' }, options());
    x.failNext(MENTIONS, { status: 401 });
    const envOutcome = await fromEnv.poll(context(cursor));
    expect(envOutcome.kind === 'auth_failed' && envOutcome.hint).toContain(
      'X_ACCESS_TOKEN and X_ACCESS_SECRET',
    );
  });

  it('treats a 403 about the app as a credential problem, and 5xx or no answer as passing', async () => {
    const { poller, cursor } = await started();
    x.failNext(MENTIONS, {
      status: 403,
      body: {
        title: 'Unsupported Authentication',
        detail: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.',
        type: 'https://api.x.com/2/problems/unsupported-authentication',
        status: 403,
      },
    });
    const forbidden = await poller.poll(context(cursor));
    expect(forbidden).toMatchObject({ kind: 'auth_failed' });
    expect(forbidden.kind === 'auth_failed' && forbidden.reason).toContain('Application-Only is forbidden');

    x.failNext(MENTIONS, { status: 503 });
    expect(await poller.poll(context(cursor))).toMatchObject({
      kind: 'failed',
      reason: expect.stringContaining('503'),
    });

    const unreachable = xMentionsPoller(account, { apiUrl: 'http://127.0.0.1:9', everyMs: minutes(1) });
    expect(await unreachable.poll(context(cursor))).toEqual({
      kind: 'failed',
      reason: 'X could not be reached',
    });
  });

  it('finds keyword complaints that do not @mention the account, once, alongside mentions', async () => {
    const branded = { ...account, keywords: ['acme', 'late delivery'] };
    expect(xSearchPoller(account, options())).toBeUndefined();
    expect(xPollers(account, options()).map((p) => p.key)).toEqual([`x:${account.userId}:mentions`]);
    const [mentions, search] = xPollers(branded, options());
    if (!mentions || !search) throw new Error('expected two pollers');
    expect(search.key).toBe(`x:${account.userId}:search`);

    const m = await started(mentions);
    const s = await started(search);
    const keyword = x.addTweet({ author: jane, text: 'Another LATE DELIVERY, thanks a lot' });
    x.addTweet({ author: bob, text: 'nothing to see' });
    x.addTweet({ authorId: account.userId, text: 'acme news from us' });
    x.addTweet({ author: bob, text: 'RT acme', referencedTweets: [{ type: 'retweeted', id: keyword.id }] });
    const both = mention('acme please help');

    expect(ok(await search.poll(context(s.cursor))).stored).toBe(2);
    expect(ok(await mentions.poll(context(m.cursor))).stored).toBe(0);
    expect((await stored()).map((r) => r.externalId)).toEqual([keyword.id, both.id]);
    expect(x.callsTo('GET', '/2/tweets/search/recent').at(-1)).toMatchObject({
      signatureValid: true,
      query: { query: `(acme OR "late delivery") -is:retweet -from:${account.userId}` },
    });
  });

  it('reads the whole search window when X no longer accepts the stored since_id', async () => {
    const search = xSearchPoller({ ...account, keywords: ['acme'] }, options());
    if (!search) throw new Error('expected a search poller');
    const tweet = x.addTweet({ author: jane, text: 'acme is down' });
    x.failNext('/2/tweets/search/recent', {
      status: 400,
      body: {
        errors: [
          {
            parameters: { since_id: ['1800000000000000000'] },
            message: 'Invalid since_id. since_id must be a tweet id created after 2026-11-16T10:00Z.',
          },
        ],
        title: 'Invalid Request',
        detail: 'One or more parameters to your request was invalid.',
        type: 'https://api.x.com/2/problems/invalid-request',
      },
    });
    const outcome = ok(await search.poll(context(JSON.stringify({ sinceId: '1800000000000000000' }))));
    expect(outcome.stored).toBe(1);
    expect(x.callsTo('GET', '/2/tweets/search/recent').at(-1)?.query.start_time).toBe('2026-11-16T10:01:00Z');
    expect(JSON.parse(outcome.cursor ?? '')).toEqual({ sinceId: tweet.id });
    expect(await handle.db.select().from(messages).where(eq(messages.externalId, tweet.id))).toHaveLength(1);
  });
});
