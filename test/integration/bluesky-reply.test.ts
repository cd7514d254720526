import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  credentialsOf,
  didOf,
  type FakeBluesky,
  fakeBlueskyAccount,
  startFakeBluesky,
} from '../../emulators/bluesky/api.js';
import { minutes } from '../../src/care/clock.js';
import { BlueskyClient } from '../../src/sources/bluesky/client.js';
import { replyRecordKey } from '../../src/sources/bluesky/limits.js';
import { blueskyReplyAdapter } from '../../src/sources/bluesky/reply.js';
import type { ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

const brand = fakeBlueskyAccount();
const support = fakeBlueskyAccount({
  name: 'support',
  identifier: 'help.acme.example',
  appPassword: 'zzzz-yyyy-xxxx-wwww',
});
const BRAND_DID = didOf('acme.bsky.social');

describe('Bluesky replies', () => {
  let bsky: FakeBluesky;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T10:00:00Z');
    bsky = await startFakeBluesky({
      credentials: [credentialsOf(brand), credentialsOf(support)],
      now: () => clock.now(),
    });
    bsky.addActor({ handle: 'jane.bsky.social', displayName: 'Jane Doe' });
  });
  afterEach(async () => {
    await bsky.close();
  });

  const adapter = (accounts = [brand, support]) =>
    blueskyReplyAdapter(
      accounts.map((a) => new BlueskyClient(a, bsky.url)),
      clock,
    );
  const thread = () => {
    const root = bsky.addPost({ author: 'jane.bsky.social', text: '@acme.bsky.social my parcel is lost' });
    clock.advance(minutes(1));
    const follow = bsky.addPost({ author: 'jane.bsky.social', text: 'still nothing', replyTo: root });
    return { root, follow };
  };
  const request = (over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: 'bluesky:acme.bsky.social',
    conversationId: 'at://did:plc:none/app.bsky.feed.post/3kzzzzzzzzzzz',
    inReplyTo: null,
    customerId: didOf('jane.bsky.social'),
    mode: 'public',
    text: 'Sorry Jane! Tracking is at https://acme.example/track and @jane.bsky.social we are on it.',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'carebot-reply-1',
    ...over,
  });

  it("posts in the thread under the customer's latest post, with root and parent refs and facets", async () => {
    const { root, follow } = thread();
    const outcome = await adapter().reply(request({ conversationId: root.uri, inReplyTo: follow.uri }));
    expect(bsky.sent).toHaveLength(1);
    const [post] = bsky.sent;
    expect(post?.authorDid).toBe(BRAND_DID);
    expect(post?.record).toMatchObject({
      $type: 'app.bsky.feed.post',
      text: request().text,
      createdAt: '2026-11-23T10:01:00.000Z',
      reply: { root: { uri: root.uri, cid: root.cid }, parent: { uri: follow.uri, cid: follow.cid } },
    });
    const features = (
      (post?.record.facets ?? []) as Array<{ features: Array<Record<string, string>> }>
    ).flatMap((f) => f.features);
    expect(features).toEqual([
      { $type: 'app.bsky.richtext.facet#link', uri: 'https://acme.example/track' },
      { $type: 'app.bsky.richtext.facet#mention', did: didOf('jane.bsky.social') },
    ]);
    expect(post?.rkey).toBe(replyRecordKey(BRAND_DID, 'carebot-reply-1', follow.rkey));
    expect(post && post.rkey > follow.rkey).toBe(true);
    expect(outcome).toEqual({
      ok: true,
      externalId: post?.uri,
      url: `https://bsky.app/profile/acme.bsky.social/post/${post?.rkey}`,
    });
  });

  it('answers the root when the latest message is not known, and leaves unknown @handles as text', async () => {
    const { root } = thread();
    await adapter().reply(
      request({ conversationId: root.uri, text: 'Hi @nobody.example, see acme.com/help' }),
    );
    const [post] = bsky.sent;
    expect(post?.record.reply).toEqual({
      root: { uri: root.uri, cid: root.cid },
      parent: { uri: root.uri, cid: root.cid },
    });
    const features = ((post?.record.facets ?? []) as Array<{ features: unknown[] }>).flatMap(
      (f) => f.features,
    );
    expect(features).toEqual([{ $type: 'app.bsky.richtext.facet#link', uri: 'https://acme.com/help' }]);
  });

  it('answers as the account the case came in on', async () => {
    const { root } = thread();
    await adapter().reply(request({ sourceKey: 'bluesky:help.acme.example', conversationId: root.uri }));
    expect(bsky.sent[0]?.authorDid).toBe(didOf('help.acme.example'));
  });

  it('does not post twice when an attempt posted but its answer was lost', async () => {
    const { root, follow } = thread();
    const send = adapter();
    bsky.failNext('com.atproto.repo.createRecord', { status: 502, apply: true });
    const first = await send.reply(request({ conversationId: root.uri, inReplyTo: follow.uri }));
    // The post is there: the adapter read its key and found it.
    expect(first).toMatchObject({ ok: true, externalId: bsky.sent[0]?.uri });
    expect(bsky.callsTo('com.atproto.repo.getRecord')).toHaveLength(1);

    // A crash after the post left: the next attempt is told the outcome is unknown, and looks first.
    const again = await adapter().reply(
      request({ conversationId: root.uri, inReplyTo: follow.uri, outcomeUnknown: true }),
    );
    expect(again).toMatchObject({ ok: true, externalId: bsky.sent[0]?.uri });
    // Even without looking: the repository holds one record per key and refuses the resend.
    const resend = await adapter().reply(request({ conversationId: root.uri, inReplyTo: follow.uri }));
    expect(resend).toMatchObject({ ok: true, externalId: bsky.sent[0]?.uri });
    expect(bsky.sent).toHaveLength(1);
  });

  it('sends with a fresh key when its key holds some other post (an older database)', async () => {
    const { root } = thread();
    const rkey = replyRecordKey(BRAND_DID, 'carebot-reply-1', root.rkey);
    bsky.addPost({ author: BRAND_DID, text: 'an old reply', rkey });
    const outcome = await adapter().reply(request({ conversationId: root.uri }));
    expect(outcome.ok).toBe(true);
    expect(bsky.sent).toHaveLength(1);
    expect(bsky.sent[0]?.rkey).not.toBe(rkey);
  });

  it('reports a lost answer without a post as passing, and unknown', async () => {
    const { root } = thread();
    bsky.failNext('com.atproto.repo.createRecord', { status: 503 });
    expect(await adapter().reply(request({ conversationId: root.uri }))).toMatchObject({
      ok: false,
      permanent: false,
      outcomeUnknown: true,
    });
  });

  it('waits for ratelimit-reset on a 429', async () => {
    const { root } = thread();
    const reset = Math.floor(clock.now().getTime() / 1000) + 600;
    bsky.failNext('com.atproto.repo.createRecord', {
      status: 429,
      headers: { 'ratelimit-reset': String(reset) },
    });
    const outcome = await adapter().reply(request({ conversationId: root.uri }));
    expect(outcome).toMatchObject({ ok: false, permanent: false, retryAfterMs: 600_000 });
    expect(bsky.sent).toHaveLength(0);
  });

  it('says what to do about a revoked app password, as a credentials failure, without echoing it', async () => {
    const { root } = thread();
    const send = adapter();
    await send.reply(request({ conversationId: root.uri, idempotencyKey: 'k0' }));
    bsky.revokeAppPassword('acme.bsky.social');
    const outcome = await send.reply(request({ conversationId: root.uri }));
    expect(outcome).toMatchObject({ ok: false, permanent: true, credentials: true });
    expect(JSON.stringify(outcome)).toContain('app password');
    expect(JSON.stringify(outcome)).not.toContain(brand.appPassword);
  });

  it('refuses what cannot work before sending', async () => {
    const { root } = thread();
    const send = adapter();
    expect(await send.reply(request({ mode: 'private', conversationId: root.uri }))).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(await send.reply(request({ conversationId: 'not-a-uri' }))).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(
      await send.reply(request({ sourceKey: 'bluesky:gone.example', conversationId: root.uri })),
    ).toMatchObject({
      ok: false,
      permanent: true,
    });
    // 300 graphemes: 301 family emoji are too many, however many UTF-16 units 300 of them take.
    const tooLong = await send.reply(request({ conversationId: root.uri, text: '👨‍👩‍👧'.repeat(301) }));
    expect(tooLong).toMatchObject({ ok: false, permanent: true });
    expect(JSON.stringify(tooLong)).toContain('301');
    expect(await send.reply(request({ conversationId: root.uri, text: '👨‍👩‍👧'.repeat(300) }))).toMatchObject(
      { ok: true },
    );
    // A deleted post cannot be answered.
    expect(await send.reply(request({ conversationId: `${root.uri}x` }))).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(bsky.sent).toHaveLength(1);
  });
});
