import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialsOf, type FakeX, fakeXAccount, startFakeX } from '../../emulators/x/api.js';
import { seconds } from '../../src/care/clock.js';
import type { ReplyRequest } from '../../src/sources/types.js';
import { xReplyAdapter } from '../../src/sources/x/reply.js';
import { ManualClock } from '../support/clock.js';

const brand = fakeXAccount();
const other = fakeXAccount({
  name: 'brandsupport',
  userId: '1700000000000000002',
  accessToken: '1700000000000000002-at-other',
  accessSecret: 'as-other',
});
const jane = { id: '42', username: 'jane', name: 'Jane Doe', followers: 5 };

describe('X replies', () => {
  let x: FakeX;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T10:00:00Z');
    x = await startFakeX({
      credentials: [credentialsOf(brand), credentialsOf(other)],
      now: () => clock.now(),
    });
  });
  afterEach(async () => {
    await x.close();
  });

  const adapter = () => xReplyAdapter([brand, other], x.url, clock);
  const request = (over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: `x:${brand.userId}`,
    conversationId: '1862000000000000001',
    inReplyTo: null,
    customerId: '42',
    mode: 'public',
    text: 'Sorry about that, Jane. We are on it.',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'reply-1',
    ...over,
  });

  it("answers under the customer's latest post, as the case's account", async () => {
    const root = x.addTweet({ author: jane, text: '@brand broken' });
    const latest = x.addTweet({ author: jane, text: '@brand still broken', conversationId: root.id });
    const outcome = await adapter().reply(request({ conversationId: root.id, inReplyTo: latest.id }));
    const [call] = x.callsTo('POST', '/2/tweets');
    expect(call).toMatchObject({ oauth: true, signatureValid: true, token: brand.accessToken });
    expect(call?.body).toEqual({
      text: 'Sorry about that, Jane. We are on it.',
      reply: { in_reply_to_tweet_id: latest.id },
    });
    const posted = x.sent[0];
    expect(outcome).toEqual({
      ok: true,
      externalId: posted?.id,
      url: `https://x.com/brand/status/${posted?.id}`,
    });
    // The other account's case goes out as that account.
    const second = await adapter().reply(
      request({ sourceKey: `x:${other.userId}`, conversationId: root.id, inReplyTo: root.id, text: 'Hi!' }),
    );
    expect(second.ok).toBe(true);
    expect(x.callsTo('POST', '/2/tweets')[1]?.token).toBe(other.accessToken);
  });

  it("answers the conversation's first post when the latest one is not known", async () => {
    const root = x.addTweet({ author: jane, text: '@brand hello' });
    await adapter().reply(request({ conversationId: root.id, inReplyTo: null }));
    expect(x.callsTo('POST', '/2/tweets')[0]?.body).toMatchObject({
      reply: { in_reply_to_tweet_id: root.id },
    });
  });

  it('sends a direct message in a DM conversation and when an agent moved the case to private', async () => {
    const dm = await adapter().reply(request({ conversationId: 'dm:42', inReplyTo: '1862000000000000500' }));
    const [call] = x.callsTo('POST', '/2/dm_conversations/with/');
    expect(call?.path).toBe('/2/dm_conversations/with/42/messages');
    expect(call?.body).toEqual({ text: 'Sorry about that, Jane. We are on it.' });
    expect(dm).toEqual({ ok: true, externalId: x.sent[0]?.id, url: undefined });

    const root = x.addTweet({ author: jane, text: '@brand my address is…' });
    const moved = await adapter().reply(
      request({
        conversationId: root.id,
        inReplyTo: root.id,
        mode: 'private',
        customerId: '43',
        text: 'DM me',
      }),
    );
    expect(moved.ok).toBe(true);
    expect(x.callsTo('POST', '/2/dm_conversations/with/')[1]?.path).toBe(
      '/2/dm_conversations/with/43/messages',
    );
    expect(x.callsTo('POST', '/2/tweets')).toHaveLength(0);
  });

  it('waits for the rate-limit reset on a 429', async () => {
    const root = x.addTweet({ author: jane, text: '@brand hi' });
    const reset = Math.floor(clock.now().getTime() / 1000) + 120;
    x.failNext('/2/tweets', { status: 429, headers: { 'x-rate-limit-reset': String(reset) } });
    const outcome = await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }));
    expect(outcome).toMatchObject({ ok: false, permanent: false, retryAfterMs: 120_000 });
    expect(x.sent).toHaveLength(0);
    // The 24-hour posting cap names its own reset.
    x.failNext('/2/tweets', {
      status: 429,
      headers: {
        'x-rate-limit-reset': String(reset),
        'x-user-limit-24hour-remaining': '0',
        'x-user-limit-24hour-reset': String(reset + 3600),
      },
    });
    const capped = await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }));
    expect(capped).toMatchObject({ ok: false, permanent: false, retryAfterMs: 3_720_000 });
    // Once the limit has reset, the reply goes out, once.
    clock.advance(seconds(120));
    expect((await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }))).ok).toBe(true);
    expect(x.sent).toHaveLength(1);
  });

  it("gives X's refusal in plain words and as permanent", async () => {
    const root = x.addTweet({ author: jane, text: '@brand hi' });
    x.failNext('/2/tweets', {
      status: 403,
      body: {
        detail:
          'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
        type: 'about:blank',
        title: 'Forbidden',
        status: 403,
      },
    });
    const restricted = await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }));
    expect(restricted).toMatchObject({ ok: false, permanent: true });
    if (restricted.ok) return;
    expect(restricted.reason).toContain('limited who can reply');
    expect(restricted.reason).toContain('Reply to this conversation is not allowed');

    x.failNext('/2/dm_conversations/with/', {
      status: 403,
      body: {
        detail: 'You cannot send messages to this user.',
        type: 'about:blank',
        title: 'Forbidden',
        status: 403,
      },
    });
    const closed = await adapter().reply(request({ conversationId: 'dm:42' }));
    expect(closed.ok === false && closed.permanent && closed.reason).toContain(
      'does not accept direct messages',
    );
  });

  it('refuses a duplicate post as X does', async () => {
    const root = x.addTweet({ author: jane, text: '@brand hi' });
    const first = await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }));
    expect(first.ok).toBe(true);
    const again = await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }));
    expect(again).toMatchObject({ ok: false, permanent: true });
    expect(again.ok === false && again.reason).toMatch(/^X refused a duplicate of an earlier post/);
  });

  it('says what to do about rejected credentials without echoing them', async () => {
    const root = x.addTweet({ author: jane, text: '@brand hi' });
    x.failNext('/2/tweets', { status: 401 });
    const outcome = await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }));
    expect(outcome).toMatchObject({ ok: false, permanent: true });
    if (outcome.ok) return;
    expect(outcome.reason).toContain("X rejected carebot's credentials for @brand");
    expect(outcome.reason).toContain('regenerate');
    for (const secret of [brand.consumerKey, brand.consumerSecret, brand.accessToken, brand.accessSecret]) {
      expect(outcome.reason).not.toContain(secret);
    }
  });

  it('retries server errors and unreachable X, and refuses what cannot work', async () => {
    const root = x.addTweet({ author: jane, text: '@brand hi' });
    x.failNext('/2/tweets', { status: 503 });
    expect(await adapter().reply(request({ conversationId: root.id, inReplyTo: root.id }))).toMatchObject({
      ok: false,
      permanent: false,
    });
    const offline = xReplyAdapter([brand], 'http://127.0.0.1:9', clock);
    expect(await offline.reply(request({ inReplyTo: root.id }))).toEqual({
      ok: false,
      permanent: false,
      reason: 'X could not be reached',
    });
    const gone = await adapter().reply(request({ sourceKey: 'x:1' }));
    expect(gone).toMatchObject({ ok: false, permanent: true });
    const tooLong = await adapter().reply(request({ inReplyTo: root.id, text: 'a'.repeat(281) }));
    expect(tooLong).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('281') });
    const deleted = await adapter().reply(request({ inReplyTo: '1862000000000099999' }));
    expect(deleted.ok === false && deleted.permanent && deleted.reason).toContain('deleted');
    expect(x.sent).toHaveLength(0);
    expect(adapter().label(`x:${brand.userId}`)).toBe('X');
  });
});
