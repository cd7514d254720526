import { Writable } from 'node:stream';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeAppStore,
  fakeAppStoreAccount,
  fakeAppStoreKey,
  startFakeAppStore,
} from '../../emulators/app-store/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { hours, minutes, seconds } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { type AppStorePollerOptions, appStorePoller } from '../../src/sources/app_store/poller.js';
import type { PollContext, Poller, PollOutcome } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const key = fakeAppStoreKey();
const account = fakeAppStoreAccount(key);
const LIST = `/v1/apps/${account.appId}/customerReviews`;

describe('App Store poller', () => {
  let handle: DatabaseHandle;
  let store: FakeAppStore;
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
    store = await startFakeAppStore({ keys: [key], appIds: [account.appId], now: () => clock.now() });
    logs = [];
  });
  afterEach(async () => {
    await store.close();
  });

  const options = (over: Partial<AppStorePollerOptions> = {}): AppStorePollerOptions => ({
    apiUrl: store.url,
    everyMs: minutes(5),
    priorityByRating: { '1': 'P2', '2': 'P2' },
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
  const started = async (poller: Poller = appStorePoller(account, options())) => {
    const first = ok(await poller.poll(context(undefined)));
    clock.advance(seconds(30));
    return { poller, cursor: first.cursor };
  };

  it('turns a new review into a case, signed with an ES256 token Apple accepts', async () => {
    const { poller, cursor } = await started();
    const review = store.addReview({
      rating: 1,
      title: 'Crashes',
      body: 'Lost my notes',
      nickname: 'Anne J.',
      territory: 'DEU',
    });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(1);
    const [message] = await stored();
    expect(message).toMatchObject({
      sourceKey: 'app_store:1234567890',
      externalId: review.id,
      authorId: 'nickname:Anne J.',
      authorName: 'Anne J.',
      text: 'Crashes\n\nLost my notes',
      url: 'https://apps.apple.com/app/id1234567890',
    });
    const [row] = await handle.db.select().from(cases);
    expect(row).toMatchObject({ platform: 'app_store', conversationId: review.id, channelId: 'C0ASCARE01' });

    const call = store.callsTo('GET', LIST).at(-1);
    expect(call?.query).toEqual({ sort: '-createdDate', limit: '200', include: 'response' });
    expect(call?.keyId).toBe(key.keyId);
    expect(call?.jwt?.header).toEqual({ alg: 'ES256', kid: key.keyId, typ: 'JWT' });
    const payload = call?.jwt?.payload ?? {};
    expect(payload).toMatchObject({ iss: key.issuerId, aud: 'appstoreconnect-v1' });
    expect(Number(payload.exp) - Number(payload.iat)).toBeLessThanOrEqual(20 * 60);
    expect(poller.key).toBe('app_store:1234567890:reviews');
  });

  it('takes nothing old on the first poll, then what is new, and nothing twice', async () => {
    store.addReview({ body: 'old', createdAt: '2026-11-22T10:00:00Z' });
    const poller = appStorePoller(account, options());
    const first = ok(await poller.poll(context(undefined)));
    expect(first.stored).toBe(0);
    expect(logs.join('')).toContain('first poll');
    clock.advance(minutes(5));
    const a = store.addReview({ body: 'new one' });
    const b = store.addReview({ body: 'same second' });
    const second = ok(await poller.poll(context(first.cursor)));
    expect(second.stored).toBe(2);
    expect(JSON.parse(second.cursor ?? '')).toMatchObject({
      at: clock.now().getTime(),
      ids: [a.id, b.id].sort(),
    });
    // Another instance from the old cursor, the same poll again, and a third review in the same second.
    expect(ok(await poller.poll(context(first.cursor))).stored).toBe(0);
    const c = store.addReview({ body: 'third, same second' });
    const third = ok(await poller.poll(context(second.cursor)));
    expect(third.stored).toBe(1);
    expect(JSON.parse(third.cursor ?? '').ids).toEqual([a.id, b.id, c.id].sort());
    expect(ok(await poller.poll(context(third.cursor)))).toEqual({
      kind: 'ok',
      cursor: undefined,
      stored: 0,
    });
    expect((await stored()).map((m) => m.text)).toEqual(['new one', 'same second', 'third, same second']);
    expect(await handle.db.select().from(cases)).toHaveLength(3);
  });

  it('pages back with links.next to the last review seen, and stores oldest first', async () => {
    const { poller, cursor } = await started();
    const reviews = Array.from({ length: 250 }, (_, i) => {
      clock.advance(seconds(1));
      return store.addReview({ body: `review ${i}` });
    });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(250);
    expect(
      store
        .callsTo('GET', LIST)
        .slice(1)
        .map((c) => c.query.cursor),
    ).toEqual([undefined, Buffer.from('200').toString('base64url')]);
    expect((await stored()).map((m) => m.externalId)).toEqual(reviews.map((r) => r.id));
    clock.advance(minutes(5));
    store.addReview({ body: 'one more' });
    expect(ok(await poller.poll(context(outcome.cursor))).stored).toBe(1);
    // Read back LATE_LISTING (6 h) for reviews Apple lists late: the 251 are two pages again.
    expect(store.callsTo('GET', LIST)).toHaveLength(5);
  });

  it('finds a review Apple lists late, within six hours, and never one from before the first poll', async () => {
    store.addReview({ body: 'before carebot', createdAt: '2026-11-23T09:00:00Z' });
    const { poller, cursor } = await started();
    clock.advance(hours(1));
    store.addReview({ body: 'on time' });
    const second = ok(await poller.poll(context(cursor)));
    expect(second.stored).toBe(1);
    // Written 30 minutes ago, listed only now: older than the newest review already read.
    clock.advance(minutes(5));
    store.addReview({ body: 'listed late', createdAt: new Date(clock.now().getTime() - minutes(35)) });
    // And one written before carebot's first poll, listed now: not carebot's to take.
    store.addReview({ body: 'late, before carebot', createdAt: '2026-11-23T09:59:00Z' });
    const third = ok(await poller.poll(context(second.cursor)));
    expect(third.stored).toBe(1);
    clock.advance(hours(7));
    store.addReview({ body: 'much later' });
    const fourth = ok(await poller.poll(context(third.cursor ?? second.cursor)));
    expect(fourth.stored).toBe(1);
    // Six hours back from the newest review read, and no further.
    clock.advance(minutes(5));
    const newest = clock.now().getTime() - minutes(5);
    store.addReview({ body: 'five hours late', createdAt: new Date(newest - hours(5)) });
    store.addReview({ body: 'seven hours late', createdAt: new Date(newest - hours(7)) });
    expect(ok(await poller.poll(context(fourth.cursor))).stored).toBe(1);
    expect((await stored()).map((m) => m.text)).toEqual([
      'on time',
      'listed late',
      'much later',
      'five hours late',
    ]);
  });

  it('imports the backfill window on the very first poll, and nothing older', async () => {
    store.addReview({ body: 'too old', createdAt: '2026-11-20T10:00:00Z' });
    const inside = store.addReview({ body: 'recent', createdAt: '2026-11-23T08:00:00Z' });
    const answered = store.addReview({ body: 'answered', rating: 5, createdAt: '2026-11-23T09:00:00Z' });
    store.addResponse(answered.id, 'Thank you!');
    const poller = appStorePoller(account, options({ backfillMs: hours(24) }));
    const first = ok(await poller.poll(context(undefined)));
    expect(first.stored).toBe(2);
    expect((await stored()).map((m) => m.externalId)).toEqual([inside.id, answered.id]);
    expect(logs.join('')).toContain('backfill: 2 stored');
    expect(JSON.parse(first.cursor ?? '').ids).toEqual([answered.id]);
  });

  it('keeps one token until shortly before it expires, and signs anew once on a 401', async () => {
    const { poller, cursor } = await started();
    const tokenOf = (i: number) => JSON.stringify(store.calls[i]?.jwt);
    ok(await poller.poll(context(cursor)));
    expect(tokenOf(1)).toBe(tokenOf(0));
    clock.advance(minutes(17));
    ok(await poller.poll(context(cursor)));
    expect(tokenOf(2)).not.toBe(tokenOf(1));
    store.failNext(LIST, { status: 401 });
    store.addReview({ body: 'still here' });
    expect(ok(await poller.poll(context(cursor))).stored).toBe(1);
    expect(store.calls.filter((c) => c.status === 401)).toHaveLength(1);
  });

  it('pauses on a revoked key or an unknown app, with what to do, and never the key', async () => {
    const { poller, cursor } = await started();
    store.revokeKey(key.keyId);
    const revoked = await poller.poll(context(cursor));
    expect(revoked).toMatchObject({ kind: 'auth_failed', reason: expect.stringContaining('NOT_AUTHORIZED') });
    expect(revoked.kind === 'auth_failed' && revoked.hint).toContain('issuer_id, key_id and private_key');
    // Signed again once, then given up.
    expect(store.calls.filter((c) => c.status === 401)).toHaveLength(2);

    const other = fakeAppStoreAccount(key, { appId: '999', name: 'other' });
    const unknown = await appStorePoller(other, options()).poll(context(undefined));
    expect(unknown).toMatchObject({ kind: 'auth_failed' });

    const broken = fakeAppStoreAccount(key, { privateKey: '/nowhere/AuthKey.p8' });
    const noKey = await appStorePoller(broken, options()).poll(context(undefined));
    expect(noKey).toMatchObject({ kind: 'auth_failed', reason: expect.stringContaining('neither PEM text') });
    expect(noKey.kind === 'auth_failed' && noKey.hint).toContain('.p8');

    const text = JSON.stringify([revoked, unknown, noKey]) + logs.join('');
    expect(text).not.toContain(key.privateKeyPem.split('\n')[1]);
  });

  it('waits on a 429 or a spent hourly budget, and retries errors and an unreachable Apple', async () => {
    const { poller, cursor } = await started();
    store.failNext(LIST, { status: 429, headers: { 'retry-after': '60' } });
    expect(await poller.poll(context(cursor))).toEqual({
      kind: 'rate_limited',
      retryAt: new Date(clock.now().getTime() + 60_000),
    });
    // Until then nothing is sent.
    const before = store.calls.length;
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'rate_limited' });
    expect(store.calls.length).toBe(before);
    clock.advance(seconds(61));
    store.setRateLimit(1);
    ok(await poller.poll(context(cursor)));
    // That answer said `user-hour-rem:0`: the next poll waits without asking.
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'rate_limited' });
    expect(store.calls.length).toBe(before + 1);
    clock.advance(minutes(6));
    store.setRateLimit(100);
    store.failNext(LIST, { status: 503 });
    expect(await poller.poll(context(cursor))).toEqual({
      kind: 'failed',
      reason: 'App Store Connect had an error (HTTP 503)',
    });
    const unreachable = appStorePoller(account, options({ apiUrl: 'http://127.0.0.1:9' }));
    expect(await unreachable.poll(context(cursor))).toEqual({
      kind: 'failed',
      reason: 'App Store Connect could not be reached',
    });
  });
});
