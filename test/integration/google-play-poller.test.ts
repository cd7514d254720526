import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeGooglePlay,
  fakePlayAccount,
  type ServiceAccountKeyPair,
  startFakeGooglePlay,
} from '../../emulators/google-play/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { hours, minutes, seconds } from '../../src/care/clock.js';

const days = (n: number) => hours(24 * n);

import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { checkGooglePlay } from '../../src/sources/google_play/check.js';
import type { GooglePlayAccount } from '../../src/sources/google_play/config.js';
import { googlePlayPoller } from '../../src/sources/google_play/poller.js';
import { googlePlayReplyAdapter, REPLACED_NOTE } from '../../src/sources/google_play/reply.js';
import type { PollContext, PollOutcome, ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const PKG = 'com.acme.shop';
const LIST = `/androidpublisher/v3/applications/${PKG}/reviews`;
const dir = mkdtempSync(join(tmpdir(), 'carebot-play-'));

describe('Google Play poller and replies', () => {
  let handle: DatabaseHandle;
  let play: FakeGooglePlay;
  let clock: ManualClock;
  let logs: string[];
  let key: ServiceAccountKeyPair;
  let account: GooglePlayAccount;

  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    clock = new ManualClock('2026-11-23T10:00:00Z');
    play = await startFakeGooglePlay({ now: () => clock.now() });
    key = play.addServiceAccount({ packages: [PKG] });
    const file = join(dir, `key-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(key.keyFile));
    account = fakePlayAccount({ credentialsFile: file });
    logs = [];
  });
  afterEach(async () => {
    await play.close();
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
  const poller = (over: { backfillMs?: number; acc?: GooglePlayAccount } = {}) =>
    googlePlayPoller(over.acc ?? account, {
      apiUrl: play.url,
      everyMs: minutes(5),
      backfillMs: over.backfillMs,
    });
  const started = async (p = poller()) => {
    const first = ok(await p.poll(context(undefined)));
    clock.advance(minutes(5));
    return { p, cursor: first.cursor };
  };

  it('signs in at the key file’s token_uri and turns a one-star review into a case with its facts', async () => {
    const { p, cursor } = await started();
    const review = play.addReview({
      packageName: PKG,
      title: 'Crashes',
      text: 'Since 4.2.1 it closes <@U123>',
      stars: 1,
    });
    const outcome = ok(await p.poll(context(cursor)));
    expect(outcome.stored).toBe(1);
    const [message] = await stored();
    expect(message).toMatchObject({
      sourceKey: `google_play:${PKG}`,
      externalId: `${review.reviewId}:${review.lastModified}`,
      authorId: `review:${review.reviewId}`,
      authorName: 'Jane Doe',
      text: 'Crashes\n\nSince 4.2.1 it closes <@U123>',
      facts: ['★☆☆☆☆ 1 of 5', 'app 4.2.1', 'panther (Pixel 7) · Android 14', 'language: en'],
    });
    const [row] = await handle.db.select().from(cases);
    expect(row).toMatchObject({
      platform: 'google_play',
      conversationId: review.reviewId,
      channelId: 'C0PLAYCARE',
    });

    const [token] = play.tokenCalls();
    expect(token?.body).toMatchObject({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' });
    expect(play.callsTo('GET', LIST).at(-1)?.query).toMatchObject({ maxResults: '100' });
    // One token for both polls: it is kept until shortly before it expires.
    expect(play.tokenCalls()).toHaveLength(1);
    expect(p.key).toBe(`google_play:${PKG}`);
    expect(p.label).toBe(`Google Play app ${PKG}`);
  });

  it('imports nothing on the first poll, nothing twice on overlapping polls or after a restart', async () => {
    play.addReview({ packageName: PKG, text: 'old', stars: 2, at: new Date('2026-11-23T09:00:00Z') });
    const p = poller();
    const first = ok(await p.poll(context(undefined)));
    expect(first.stored).toBe(0);
    expect(logs.join('')).toContain('first poll');
    clock.advance(minutes(5));
    const fresh = play.addReview({ packageName: PKG, text: 'new', stars: 3 });
    const second = ok(await p.poll(context(first.cursor)));
    expect(second.stored).toBe(1);
    // The same cursor again (two instances, or a poll whose cursor was not saved): nothing new.
    expect(ok(await p.poll(context(first.cursor))).stored).toBe(0);
    // A restarted carebot: a new poller with the stored cursor.
    clock.advance(minutes(5));
    expect(ok(await poller().poll(context(second.cursor))).stored).toBe(0);
    expect((await stored()).map((m) => m.externalId)).toEqual([`${fresh.reviewId}:${fresh.lastModified}`]);
  });

  it('takes a review that shows up late in the list, behind a newer one', async () => {
    const { p, cursor } = await started();
    play.addReview({ packageName: PKG, text: 'newer', stars: 4 });
    const second = ok(await p.poll(context(cursor)));
    clock.advance(minutes(5));
    play.addReview({
      packageName: PKG,
      text: 'late',
      stars: 1,
      at: new Date(clock.now().getTime() - minutes(8)),
    });
    expect(ok(await p.poll(context(second.cursor))).stored).toBe(1);
  });

  it('adds an edited review to its case as a follow-up with the old rating', async () => {
    const before = play.addReview({
      packageName: PKG,
      text: 'terrible',
      stars: 1,
      at: new Date('2026-11-22T10:00:00Z'),
    });
    const { p, cursor } = await started();
    play.editReview(before.reviewId, { text: 'fixed now, thanks', stars: 4 });
    const outcome = ok(await p.poll(context(cursor)));
    expect(outcome.stored).toBe(1);
    clock.advance(minutes(5));
    play.editReview(before.reviewId, { text: 'broken again', stars: 2 });
    ok(await p.poll(context(outcome.cursor)));
    const rows = await stored();
    expect(rows.map((m) => m.text)).toEqual(['fixed now, thanks', 'broken again']);
    expect(rows[0]?.facts).toContain('edited review: was 1★');
    expect(rows[1]?.facts).toContain('edited review: was 4★');
    expect(new Set(rows.map((m) => m.caseId)).size).toBe(1);
  });

  it('imports the backfill window on the first poll, across pages', async () => {
    for (let i = 0; i < 150; i++) {
      play.addReview({
        packageName: PKG,
        text: `review ${i}`,
        stars: 5,
        at: new Date(clock.now().getTime() - hours(1) - seconds(i)),
      });
    }
    play.addReview({
      packageName: PKG,
      text: 'too old',
      stars: 1,
      at: new Date(clock.now().getTime() - days(3)),
    });
    const outcome = ok(await poller({ backfillMs: days(1) }).poll(context(undefined)));
    expect(outcome.stored).toBe(150);
    expect(play.callsTo('GET', LIST).length).toBe(2);
  });

  it('never takes the brand’s own reply as a message', async () => {
    const { p, cursor } = await started();
    const review = play.addReview({ packageName: PKG, text: 'meh', stars: 3 });
    play.setReply(review.reviewId, 'Thanks for the feedback!');
    ok(await p.poll(context(cursor)));
    expect((await stored()).map((m) => m.text)).toEqual(['meh']);
  });

  it('waits out a 429 and pauses on a deleted key or a missing file, without secrets in the reason', async () => {
    const { p, cursor } = await started();
    play.failNext(LIST, { status: 429, headers: { 'retry-after': '120' } });
    const limited = await p.poll(context(cursor));
    expect(limited).toEqual({
      kind: 'rate_limited',
      retryAt: new Date(clock.now().getTime() + seconds(120)),
    });

    play.deleteKey(key.account.keyId);
    play.revokeTokens();
    const revoked = await p.poll(context(cursor));
    expect(revoked.kind).toBe('auth_failed');
    const text = JSON.stringify(revoked);
    expect(text).toContain('invalid_grant');
    expect(text).not.toContain(key.keyFile.private_key.slice(40, 80));

    const missing = await poller({ acc: fakePlayAccount({ credentialsFile: join(dir, 'nope.json') }) }).poll(
      context(undefined),
    );
    expect(missing).toMatchObject({ kind: 'auth_failed', reason: expect.stringContaining('no such file') });
  });

  it('pauses when the service account was not invited to the app', async () => {
    const other = play.addServiceAccount({
      packages: ['com.other.app'],
      clientEmail: 'x@other.iam.gserviceaccount.com',
    });
    const file = join(dir, 'other.json');
    writeFileSync(file, JSON.stringify(other.keyFile));
    const outcome = await poller({ acc: fakePlayAccount({ credentialsFile: file }) }).poll(
      context(undefined),
    );
    expect(outcome).toMatchObject({ kind: 'auth_failed', hint: expect.stringContaining('Play Console') });
  });

  it('refuses a forged key: the right key id, another private key', async () => {
    const stranger = play.addServiceAccount({ packages: [] });
    const forged = join(dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ ...key.keyFile, private_key: stranger.keyFile.private_key }));
    const outcome = await poller({ acc: fakePlayAccount({ credentialsFile: forged }) }).poll(
      context(undefined),
    );
    expect(outcome).toMatchObject({
      kind: 'auth_failed',
      reason: expect.stringContaining('Invalid JWT Signature'),
    });
    expect(play.calls.filter((c) => c.path.startsWith('/androidpublisher'))).toHaveLength(0);
  });

  it('checks each app with a token and one page of reviews, read only', async () => {
    const missing = fakePlayAccount({
      name: 'beta',
      packageName: 'com.acme.beta',
      credentialsFile: join(dir, 'none.json'),
    });
    const lines = await checkGooglePlay(
      { apiUrl: play.url, pollEvery: minutes(5), backfill: undefined, accounts: [account, missing] },
      { timeoutMs: 5000, clock, settingsOf: () => undefined as never },
    );
    expect(lines[0]).toEqual({
      ok: true,
      what: `Google Play app ${PKG} ("app"): ${key.keyFile.client_email} reads its reviews`,
    });
    expect(lines[1]).toMatchObject({
      ok: false,
      fix: expect.stringContaining('credentials_file of the app "beta"'),
    });
    expect(play.calls.filter((c) => c.method === 'POST' && c.path !== '/token')).toHaveLength(0);
  });

  describe('replies', () => {
    const request = (reviewId: string, over: Partial<ReplyRequest> = {}): ReplyRequest => ({
      replyId: 1,
      caseId: 1,
      sourceKey: `google_play:${PKG}`,
      conversationId: reviewId,
      inReplyTo: `${reviewId}:1`,
      customerId: `review:${reviewId}`,
      mode: 'public',
      text: 'Sorry, Jane! 4.2.2 fixes the crash.',
      agent: { id: 'U1', name: 'Sam' },
      idempotencyKey: 'reply-1',
      ...over,
    });
    const adapter = () => googlePlayReplyAdapter([account], play.url, clock);

    it('answers the review once, and says when it replaced an earlier reply', async () => {
      const review = play.addReview({ packageName: PKG, text: 'crash', stars: 1 });
      const first = await adapter().reply(request(review.reviewId));
      expect(first).toEqual({
        ok: true,
        externalId: review.reviewId,
        url: `https://play.google.com/store/apps/details?id=${PKG}&reviewId=${encodeURIComponent(review.reviewId)}`,
      });
      expect(play.replies).toEqual([
        { reviewId: review.reviewId, text: 'Sorry, Jane! 4.2.2 fixes the crash.' },
      ]);
      const second = await adapter().reply(
        request(review.reviewId, { text: 'Update: 4.2.2 is out now.', idempotencyKey: 'reply-2' }),
      );
      expect(second).toMatchObject({ ok: true, note: REPLACED_NOTE });
    });

    it('does not send again when a lost answer had gone through', async () => {
      const review = play.addReview({ packageName: PKG, text: 'crash', stars: 1 });
      const path = `${LIST}/${encodeURIComponent(review.reviewId)}:reply`;
      play.failNext(path, { status: 503, apply: true, method: 'POST' });
      const lost = await adapter().reply(request(review.reviewId));
      expect(lost).toMatchObject({ ok: false, permanent: false, outcomeUnknown: true });
      // A fresh adapter (another instance, a restart) learns it from the request.
      const retry = await adapter().reply(request(review.reviewId, { outcomeUnknown: true }));
      expect(retry).toMatchObject({ ok: true, externalId: review.reviewId });
      expect(retry).not.toHaveProperty('note');
      expect(play.replies).toHaveLength(1);
    });

    it('maps quota, revoked credentials, too long and a gone review', async () => {
      const review = play.addReview({ packageName: PKG, text: 'crash', stars: 1 });
      const path = `${LIST}/${encodeURIComponent(review.reviewId)}:reply`;
      play.failNext(path, { status: 429, method: 'POST', headers: { 'retry-after': '30' } });
      expect(await adapter().reply(request(review.reviewId))).toMatchObject({
        ok: false,
        permanent: false,
        retryAfterMs: 30_000,
      });

      play.failNext(path, {
        status: 400,
        method: 'POST',
        body: { error: { code: 400, message: 'The reply text is too long.', status: 'INVALID_ARGUMENT' } },
      });
      expect(await adapter().reply(request(review.reviewId))).toMatchObject({
        ok: false,
        permanent: true,
        reason: expect.stringContaining('too long'),
      });
      expect(await adapter().reply(request(review.reviewId, { text: 'x'.repeat(351) }))).toMatchObject({
        ok: false,
        permanent: true,
      });
      expect(await adapter().reply(request('gone'))).toMatchObject({
        ok: false,
        permanent: true,
        reason: expect.stringContaining('could not find'),
      });
      expect(
        await adapter().reply(request(review.reviewId, { sourceKey: 'google_play:com.gone.app' })),
      ).toMatchObject({
        ok: false,
        permanent: true,
        reason: expect.stringContaining('no Google Play app'),
      });
      expect(await adapter().reply(request(review.reviewId, { mode: 'private' }))).toMatchObject({
        ok: false,
        permanent: true,
      });

      const a = adapter();
      play.deleteKey(key.account.keyId);
      play.revokeTokens();
      expect(await a.reply(request(review.reviewId))).toMatchObject({
        ok: false,
        permanent: true,
        credentials: true,
      });
      expect(play.replies).toHaveLength(0);
    });
  });
});
