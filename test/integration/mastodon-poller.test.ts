import { Writable } from 'node:stream';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeMastodon, fakeMastodonAccount, startFakeMastodon } from '../../emulators/mastodon/api.js';
import { conversationOfMessage, recordInbound } from '../../src/care/case-inbound.js';
import { hours, minutes, seconds } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import type { MastodonAccount } from '../../src/sources/mastodon/config.js';
import { forgetMaxCharacters, maxCharactersOf } from '../../src/sources/mastodon/limits.js';
import { mastodonPoller } from '../../src/sources/mastodon/poller.js';
import type { PollContext, PollOutcome } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

describe('Mastodon poller', () => {
  let handle: DatabaseHandle;
  let mastodon: FakeMastodon;
  let clock: ManualClock;
  let logs: string[];
  let account: MastodonAccount;

  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    forgetMaxCharacters();
    clock = new ManualClock('2026-11-23T10:00:00Z');
    mastodon = await startFakeMastodon({
      accounts: [{ token: 'mst-token-brand', username: 'acme', displayName: 'Acme Care' }],
      now: () => clock.now(),
      maxCharacters: 1000,
    });
    account = fakeMastodonAccount({ url: mastodon.url, accessToken: 'mst-token-brand' });
    logs = [];
  });
  afterEach(async () => {
    await mastodon.close();
  });

  const poller = (over: { backfillMs?: number } = {}) =>
    mastodonPoller(account, {
      everyMs: minutes(1),
      conversationOf: (sourceKey, id) => conversationOfMessage(handle.db, sourceKey, id),
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
  const jane = () => mastodon.addUser({ username: 'jane', displayName: 'Jane Doe', followers: 1234 });

  it('signs in, learns the limit, takes nothing old on the first poll, then each new mention once', async () => {
    const j = jane();
    mastodon.addStatus({ author: j, text: '@acme old complaint', createdAt: '2026-11-23T09:00:00Z' });
    const p = poller();
    const first = ok(await p.poll(context(undefined)));
    expect(first.stored).toBe(0);
    expect(first.cursor).toMatch(/^\d+$/);
    expect(maxCharactersOf('brand')).toBe(1000);
    expect(logs.join('')).toContain('first poll');
    expect(mastodon.callsTo('GET', '/api/v1/accounts/verify_credentials')).toHaveLength(1);
    expect(mastodon.callsTo('GET', '/api/v1/notifications')[0]?.query.getAll('types[]')).toEqual(['mention']);
    expect(mastodon.callsTo('GET', '/api/v1/notifications')[0]?.query.get('include_filtered')).toBe('true');
    expect(mastodon.callsTo('GET', '/api/v1/notifications')[0]?.bearer).toBe('mst-token-brand');

    clock.advance(seconds(30));
    const mention = mastodon.addStatus({
      author: j,
      text: '@acme my order never arrived\n\nStill waiting & sad',
    });
    const second = ok(await p.poll(context(first.cursor)));
    expect(second.stored).toBe(1);
    expect(mastodon.callsTo('GET', '/api/v1/notifications').at(-1)?.query.get('min_id')).toBe(first.cursor);
    const [row] = await stored();
    expect(row).toMatchObject({
      sourceKey: 'mastodon:brand',
      externalId: mention.id,
      authorId: j.id,
      authorName: 'Jane Doe',
      authorHandle: 'jane',
      authorFollowers: 1234,
      text: '@acme my order never arrived\n\nStill waiting & sad',
      url: mention.url,
    });
    const [c] = await handle.db.select().from(cases);
    expect(c).toMatchObject({ platform: 'mastodon', conversationId: mention.id, channelId: 'C0MSTCARE1' });

    // Overlap and restart: the same cursor again stores nothing twice; nothing new keeps the cursor.
    expect(ok(await p.poll(context(first.cursor))).stored).toBe(0);
    expect(ok(await poller().poll(context(second.cursor)))).toEqual({
      kind: 'ok',
      cursor: undefined,
      stored: 0,
    });
    expect(await stored()).toHaveLength(1);
  });

  it('starts from its start time when there was nothing yet, and backfills when told', async () => {
    const j = jane();
    const empty = ok(await poller().poll(context(undefined)));
    expect(empty.cursor).toBe('at:2026-11-23T10:00:00.000Z');
    clock.advance(minutes(1));
    const fresh = mastodon.addStatus({ author: j, text: '@acme hello?' });
    const next = ok(await poller().poll(context(empty.cursor)));
    expect(next.stored).toBe(1);
    expect(next.cursor).toMatch(/^\d+$/);

    await truncateAll(handle);
    mastodon.addStatus({ author: j, text: '@acme too old', createdAt: '2026-11-23T07:00:00Z' });
    const within = mastodon.addStatus({ author: j, text: '@acme within', createdAt: '2026-11-23T09:30:00Z' });
    const backfilled = ok(await poller({ backfillMs: hours(2) }).poll(context(undefined)));
    expect((await stored()).map((m) => m.externalId).sort()).toEqual([within.id, fresh.id].sort());
    expect(backfilled.stored).toBe(2);
  });

  it('pages through more than one page, oldest first, and ignores its own statuses and other notifications', async () => {
    const j = jane();
    const p = poller();
    const first = ok(await p.poll(context(undefined)));
    const brand = mastodon.brand();
    const many = Array.from({ length: 170 }, (_, i) =>
      mastodon.addStatus({ author: j, text: `@acme complaint ${i}` }),
    );
    mastodon.addStatus({ author: brand, text: '@acme a note to self' });
    mastodon.addNotification({ type: 'favourite', from: j, status: many[0] });
    const out = ok(await p.poll(context(first.cursor)));
    expect(out.stored).toBe(170);
    expect(mastodon.callsTo('GET', '/api/v1/notifications').length).toBeGreaterThanOrEqual(4);
    const rows = await stored();
    expect(rows.map((m) => m.externalId)).toEqual(many.map((s) => s.id));
    expect(rows.some((m) => m.authorId === brand.id)).toBe(false);
  });

  it('joins follow-ups in a thread to its case; a direct mention is a dm: conversation', async () => {
    const j = jane();
    const p = poller();
    let cursor = ok(await p.poll(context(undefined))).cursor;
    const first = mastodon.addStatus({ author: j, text: '@acme where is my parcel?' });
    cursor = ok(await p.poll(context(cursor))).cursor ?? cursor;
    const followUp = mastodon.addStatus({ author: j, text: '@acme hello??', inReplyTo: first });
    const bob = mastodon.addUser({ username: 'bob', domain: 'fosstodon.org' });
    const other = mastodon.addStatus({ author: bob, text: '@acme same here', inReplyTo: followUp });
    const dm = mastodon.addStatus({ author: j, text: '@acme my address is private', visibility: 'direct' });
    cursor = ok(await p.poll(context(cursor))).cursor ?? cursor;
    const dmFollowUp = mastodon.addStatus({
      author: j,
      text: '@acme and?',
      visibility: 'direct',
      inReplyTo: dm,
    });
    ok(await p.poll(context(cursor)));

    const all = await handle.db.select().from(cases).orderBy(asc(cases.id));
    expect(all.map((c) => c.conversationId)).toEqual([first.id, `dm:${dm.id}`]);
    const rows = await stored();
    expect(rows.map((m) => m.externalId)).toEqual([first.id, followUp.id, other.id, dm.id, dmFollowUp.id]);
    expect(rows.map((m) => m.caseId)).toEqual([all[0]?.id, all[0]?.id, all[0]?.id, all[1]?.id, all[1]?.id]);
    expect(rows[2]?.authorHandle).toBe('bob@fosstodon.org');
  });

  it('waits out a 429 until X-RateLimit-Reset and pauses on a revoked token', async () => {
    const p = poller();
    const first = ok(await p.poll(context(undefined)));
    mastodon.failNext('/api/v1/notifications', {
      status: 429,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2026-11-23T10:05:00.000Z' },
      body: { error: 'Too many requests' },
    });
    const limited = await p.poll(context(first.cursor));
    expect(limited).toEqual({ kind: 'rate_limited', retryAt: new Date('2026-11-23T10:05:00.000Z') });

    // A token without the notifications scope needs a person too.
    mastodon.failNext('/api/v1/notifications', {
      status: 403,
      body: { error: 'This action is outside the authorized scopes' },
    });
    const scoped = await p.poll(context(first.cursor));
    expect(scoped).toMatchObject({
      kind: 'auth_failed',
      reason: expect.stringContaining('outside the authorized scopes'),
    });

    mastodon.revokeTokens();
    const revoked = await p.poll(context(first.cursor));
    expect(revoked.kind).toBe('auth_failed');
    if (revoked.kind !== 'auth_failed') return;
    expect(revoked.reason).toContain('The access token is invalid');
    expect(revoked.hint).toContain('Preferences → Development');
    expect(JSON.stringify(revoked)).not.toContain('mst-token-brand');
    // A fresh poller (a restart) fails at sign-in the same way.
    expect((await poller().poll(context(first.cursor))).kind).toBe('auth_failed');
  });
});
