import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeMastodon, fakeMastodonAccount, startFakeMastodon } from '../../emulators/mastodon/api.js';
import { hours } from '../../src/care/clock.js';
import type { MastodonAccount } from '../../src/sources/mastodon/config.js';
import { forgetMaxCharacters } from '../../src/sources/mastodon/limits.js';
import { mastodonReplyAdapter } from '../../src/sources/mastodon/reply.js';
import type { ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

describe('Mastodon replies', () => {
  let mastodon: FakeMastodon;
  let clock: ManualClock;
  let account: MastodonAccount;
  beforeEach(async () => {
    forgetMaxCharacters();
    clock = new ManualClock('2026-11-23T10:00:00Z');
    mastodon = await startFakeMastodon({
      accounts: [{ token: 'mst-token-brand', username: 'acme' }],
      now: () => clock.now(),
    });
    account = fakeMastodonAccount({ url: mastodon.url, accessToken: 'mst-token-brand' });
  });
  afterEach(async () => {
    await mastodon.close();
  });

  const adapter = () => mastodonReplyAdapter([account], clock);
  const customer = () => mastodon.addUser({ username: 'jo', domain: 'fosstodon.org', displayName: 'Jo' });
  const request = (over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: 'mastodon:brand',
    conversationId: '1',
    inReplyTo: null,
    customerId: '1',
    mode: 'public',
    text: 'Sorry about that, Jo. We are on it & will fix it.',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'reply-1-key',
    ...over,
  });

  it("answers the customer's latest status with their @acct, in their visibility, with the idempotency key", async () => {
    const jo = customer();
    const first = mastodon.addStatus({ author: jo, text: '@acme broken', visibility: 'unlisted' });
    const latest = mastodon.addStatus({
      author: jo,
      text: '@acme hello?',
      inReplyTo: first,
      visibility: 'unlisted',
    });
    const outcome = await adapter().reply(request({ conversationId: first.id, inReplyTo: latest.id }));
    const [call] = mastodon.callsTo('POST', '/api/v1/statuses');
    expect(call?.body).toEqual({
      status: '@jo@fosstodon.org Sorry about that, Jo. We are on it & will fix it.',
      in_reply_to_id: latest.id,
      visibility: 'unlisted',
    });
    expect(call?.idempotencyKey).toMatch(/^reply-1-key-[\w-]{22}$/);
    expect(call?.bearer).toBe('mst-token-brand');
    expect(outcome).toEqual({ ok: true, externalId: mastodon.sent[0]?.id, url: mastodon.sent[0]?.url });
    expect(mastodon.sent[0]?.inReplyToId).toBe(latest.id);
  });

  it('answers a direct mention directly, and moves a public case to a direct mention when asked', async () => {
    const jo = customer();
    const dm = mastodon.addStatus({ author: jo, text: '@acme private: my address', visibility: 'direct' });
    await adapter().reply(
      request({ conversationId: `dm:${dm.id}`, inReplyTo: null, text: '@jo@fosstodon.org thanks' }),
    );
    const pub = mastodon.addStatus({ author: jo, text: '@acme public' });
    await adapter().reply(
      request({ conversationId: pub.id, inReplyTo: pub.id, mode: 'private', idempotencyKey: 'k2' }),
    );
    expect(mastodon.sent.map((s) => [s.visibility, s.inReplyToId, s.text])).toEqual([
      ['direct', dm.id, '@jo@fosstodon.org thanks'],
      ['direct', pub.id, '@jo@fosstodon.org Sorry about that, Jo. We are on it & will fix it.'],
    ]);
  });

  it('posts once when the answer was lost mid-send: the resend with the same key returns the same status', async () => {
    const jo = customer();
    const s = mastodon.addStatus({ author: jo, text: '@acme broken' });
    mastodon.failNext('/api/v1/statuses', {
      method: 'POST',
      status: 502,
      apply: true,
      body: '<html>Bad gateway</html>',
    });
    const lost = await adapter().reply(request({ conversationId: s.id, inReplyTo: s.id }));
    expect(lost).toMatchObject({ ok: false, permanent: false, outcomeUnknown: true });
    const again = await adapter().reply(
      request({ conversationId: s.id, inReplyTo: s.id, outcomeUnknown: true }),
    );
    expect(mastodon.sent).toHaveLength(1);
    expect(again).toEqual({ ok: true, externalId: mastodon.sent[0]?.id, url: mastodon.sent[0]?.url });
  });

  it('looks before sending again when the key has expired (over an hour after the lost answer)', async () => {
    const jo = customer();
    const s = mastodon.addStatus({ author: jo, text: '@acme broken' });
    mastodon.failNext('/api/v1/statuses', {
      method: 'POST',
      status: 504,
      apply: true,
      body: 'Gateway timeout',
    });
    const text = 'We are on it.\n\nSee https://status.example.com/incidents/42 for updates.';
    expect(await adapter().reply(request({ conversationId: s.id, inReplyTo: s.id, text }))).toMatchObject({
      outcomeUnknown: true,
    });
    clock.advance(hours(2));
    const again = await adapter().reply(
      request({ conversationId: s.id, inReplyTo: s.id, text, outcomeUnknown: true }),
    );
    expect(mastodon.sent).toHaveLength(1);
    expect(again).toEqual({ ok: true, externalId: mastodon.sent[0]?.id, url: mastodon.sent[0]?.url });
    // Another text under the same status is a new reply.
    await adapter().reply(
      request({ conversationId: s.id, inReplyTo: s.id, text: 'Fixed now.', outcomeUnknown: true }),
    );
    expect(mastodon.sent).toHaveLength(2);
  });

  it("does not take another reply with carebot's same key (a fresh database) for a resend", async () => {
    const jo = customer();
    const a = mastodon.addStatus({ author: jo, text: '@acme one' });
    const b = mastodon.addStatus({ author: jo, text: '@acme two' });
    await adapter().reply(request({ conversationId: a.id, inReplyTo: a.id, text: 'First answer' }));
    await adapter().reply(request({ conversationId: b.id, inReplyTo: b.id, text: 'Second answer' }));
    expect(mastodon.sent.map((s) => [s.inReplyToId, s.text])).toEqual([
      [a.id, '@jo@fosstodon.org First answer'],
      [b.id, '@jo@fosstodon.org Second answer'],
    ]);
  });

  it('maps refusals: 401 credentials, 429 waits, 422 permanent with the message, 404 deleted, too long', async () => {
    const jo = customer();
    const s = mastodon.addStatus({ author: jo, text: '@acme broken' });
    const req = request({ conversationId: s.id, inReplyTo: s.id });

    mastodon.failNext('/api/v1/statuses', {
      method: 'POST',
      status: 429,
      headers: { 'x-ratelimit-reset': '2026-11-23T10:03:00.000Z' },
      body: { error: 'Too many requests' },
    });
    expect(await adapter().reply(req)).toMatchObject({ ok: false, permanent: false, retryAfterMs: 180_000 });

    mastodon.failNext('/api/v1/statuses', {
      method: 'POST',
      status: 422,
      body: { error: 'Validation failed: Text character limit of 500 exceeded' },
    });
    expect(await adapter().reply(req)).toEqual({
      ok: false,
      permanent: true,
      reason: 'Mastodon refused the reply: Validation failed: Text character limit of 500 exceeded',
    });

    expect(await adapter().reply(request({ inReplyTo: '999999' }))).toMatchObject({
      ok: false,
      permanent: true,
      reason: expect.stringContaining('deleted'),
    });

    // 500 is the instance's limit; the reply counts with the @acct it gains, URLs as 23.
    const long = await adapter().reply({
      ...req,
      text: `${'a'.repeat(480)} https://example.com/${'x'.repeat(200)}`,
    });
    expect(long).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('allows 500') });
    const fits = await adapter().reply({
      ...req,
      text: `${'a'.repeat(450)} https://example.com/${'x'.repeat(200)}`,
    });
    expect(fits.ok).toBe(true);

    mastodon.revokeTokens();
    const revoked = await adapter().reply({ ...req, idempotencyKey: 'other' });
    expect(revoked).toMatchObject({ ok: false, permanent: true, credentials: true });
    expect(JSON.stringify(revoked)).not.toContain('mst-token-brand');
    expect(await adapter().reply({ ...req, sourceKey: 'mastodon:gone' })).toMatchObject({
      ok: false,
      permanent: true,
    });
  });
});
