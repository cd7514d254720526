import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeAppStore,
  fakeAppStoreAccount,
  fakeAppStoreKey,
  startFakeAppStore,
} from '../../emulators/app-store/api.js';
import { seconds } from '../../src/care/clock.js';
import { appStoreReplyAdapter, REPLACED_NOTE } from '../../src/sources/app_store/reply.js';
import type { ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

const key = fakeAppStoreKey();
const otherKey = fakeAppStoreKey({ keyId: 'OTHERKEY01', issuerId: '11111111-2222-3333-4444-555555555555' });
const acme = fakeAppStoreAccount(key);
const pro = fakeAppStoreAccount(otherKey, { name: 'pro', appId: '2222222222' });

describe('App Store replies', () => {
  let store: FakeAppStore;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T10:00:00Z');
    store = await startFakeAppStore({
      keys: [key, otherKey],
      appIds: [acme.appId, pro.appId],
      now: () => clock.now(),
    });
  });
  afterEach(async () => {
    await store.close();
  });

  const adapter = () => appStoreReplyAdapter([acme, pro], store.url, clock);
  const request = (reviewId: string, over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: 'app_store:1234567890',
    conversationId: reviewId,
    inReplyTo: reviewId,
    customerId: 'nickname:Anne J.',
    mode: 'public',
    text: 'Sorry, Anne! Version 4.2.2 fixes the crash & keeps your notes.',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'reply-1',
    ...over,
  });

  it('answers the review with a response, as the app of the case', async () => {
    const review = store.addReview({ body: 'Crashes' });
    const outcome = await adapter().reply(request(review.id));
    const [call] = store.callsTo('POST', '/v1/customerReviewResponses');
    expect(call?.body).toEqual({
      data: {
        type: 'customerReviewResponses',
        attributes: { responseBody: 'Sorry, Anne! Version 4.2.2 fixes the crash & keeps your notes.' },
        relationships: { review: { data: { type: 'customerReviews', id: review.id } } },
      },
    });
    expect(call?.keyId).toBe(key.keyId);
    expect(store.responses.get(review.id)?.state).toBe('PENDING_PUBLISH');
    expect(outcome).toEqual({
      ok: true,
      externalId: store.sent[0]?.id,
      url: 'https://apps.apple.com/app/id1234567890',
    });

    const other = store.addReview({ appId: pro.appId, body: 'Pro is slow' });
    expect((await adapter().reply(request(other.id, { sourceKey: 'app_store:2222222222' }))).ok).toBe(true);
    expect(store.callsTo('POST', '/v1/customerReviewResponses')[1]?.keyId).toBe(otherKey.keyId);
  });

  it('replaces an earlier response, and says so', async () => {
    const review = store.addReview({ body: 'Crashes' });
    const earlier = store.addResponse(review.id, 'Thanks for the feedback.');
    const outcome = await adapter().reply(request(review.id));
    expect(store.deleted).toEqual([earlier.id]);
    expect(store.responses.get(review.id)?.responseBody).toBe(request(review.id).text);
    expect(outcome).toEqual({
      ok: true,
      externalId: store.sent[0]?.id,
      url: 'https://apps.apple.com/app/id1234567890',
      note: REPLACED_NOTE,
    });
    // Calls in order: read, delete, create.
    expect(store.calls.map((c) => c.method)).toEqual(['GET', 'DELETE', 'POST']);
  });

  it('after a lost answer finds its own response and neither deletes nor sends it again', async () => {
    const review = store.addReview({ body: 'Crashes' });
    store.failNext('/v1/customerReviewResponses', { status: 502, method: 'POST', apply: true });
    const first = await adapter().reply(request(review.id));
    expect(first).toMatchObject({ ok: false, permanent: false, outcomeUnknown: true });
    const again = await adapter().reply(request(review.id, { outcomeUnknown: true }));
    expect(again).toEqual({
      ok: true,
      externalId: store.sent[0]?.id,
      url: 'https://apps.apple.com/app/id1234567890',
    });
    expect(store.sent).toHaveLength(1);
    expect(store.deleted).toHaveLength(0);
  });

  it("shows Apple's 409 in plain words, and refuses what cannot go out", async () => {
    const review = store.addReview({ body: 'Crashes' });
    store.failNext('/v1/customerReviewResponses', {
      status: 409,
      method: 'POST',
      body: {
        errors: [
          {
            id: 'e1',
            status: '409',
            code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
            title: 'An attribute value is invalid.',
            detail: 'The response contains a link that is not allowed.',
          },
        ],
      },
    });
    expect(await adapter().reply(request(review.id))).toEqual({
      ok: false,
      permanent: true,
      reason:
        'App Store Connect refused the response: The response contains a link that is not allowed. (ENTITY_ERROR.ATTRIBUTE.INVALID)',
    });
    const long = await adapter().reply(request(review.id, { text: 'a'.repeat(5971) }));
    expect(long).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('5970') });
    const dm = await adapter().reply(request(review.id, { mode: 'private' }));
    expect(dm).toMatchObject({ ok: false, permanent: true });
    const gone = await adapter().reply(request(review.id, { sourceKey: 'app_store:42' }));
    expect(gone).toMatchObject({ ok: false, permanent: true });
    expect(store.sent).toHaveLength(0);
  });

  it('waits on a 429, and flags a revoked key as a credentials problem', async () => {
    const review = store.addReview({ body: 'Crashes' });
    store.failNext('/v1/customerReviewResponses', {
      status: 429,
      method: 'POST',
      headers: { 'retry-after': '120' },
    });
    expect(await adapter().reply(request(review.id))).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterMs: 120_000,
    });
    store.revokeKey(key.keyId);
    clock.advance(seconds(121));
    const revoked = await adapter().reply(request(review.id));
    expect(revoked).toMatchObject({ ok: false, permanent: true, credentials: true });
    expect(JSON.stringify(revoked)).not.toContain(key.privateKeyPem.split('\n')[1]);
    expect(store.sent).toHaveLength(0);
  });
});
