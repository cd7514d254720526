import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  credentialsOf,
  type FakeReddit,
  fakeRedditAccount,
  redditErrors,
  startFakeReddit,
} from '../../emulators/reddit/api.js';
import { seconds } from '../../src/care/clock.js';
import { redditReplyAdapter } from '../../src/sources/reddit/reply.js';
import type { ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

const brand = fakeRedditAccount();
const other = fakeRedditAccount({
  name: 'support',
  clientId: 'rd-test-other-client',
  clientSecret: 'rd-test-other-secret',
  username: 'AcmeSupport',
  password: 'rd-test-other-password',
});

describe('Reddit replies', () => {
  let reddit: FakeReddit;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T10:00:00Z');
    reddit = await startFakeReddit({
      credentials: [credentialsOf(brand), credentialsOf(other)],
      now: () => clock.now(),
    });
  });
  afterEach(async () => {
    await reddit.close();
  });

  const adapter = (accounts = [brand, other]) =>
    redditReplyAdapter(accounts, { apiUrl: reddit.url, authUrl: reddit.url }, clock);
  const thread = () => {
    const post = reddit.addPost({ title: 'Broken again', selftext: 'Help', author: 'jane_doe' });
    const comment = reddit.addComment({
      parent: post,
      body: 'Still broken <3 days> & counting',
      author: 'jane_doe',
    });
    return { post, comment };
  };
  const request = (over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: 'reddit:AcmeCare',
    conversationId: 't3_zzzzzz',
    inReplyTo: null,
    customerId: 'jane_doe',
    mode: 'public',
    text: 'Sorry about that, Jane. We are on it & will *fix* it.',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'reply-1',
    ...over,
  });

  it("comments under the customer's latest comment, as the case's account", async () => {
    const { post, comment } = thread();
    const outcome = await adapter().reply(request({ conversationId: post.name, inReplyTo: comment.name }));
    const [call] = reddit.callsTo('POST', '/api/comment');
    expect(call?.form).toEqual({
      api_type: 'json',
      thing_id: comment.name,
      text: 'Sorry about that, Jane. We are on it & will *fix* it.',
    });
    expect(call?.userAgent).toMatch(/:carebot:.+ \(by \/u\/AcmeCare\)$/);
    const posted = reddit.sent[0];
    expect(posted).toMatchObject({ author: 'AcmeCare', parentId: comment.name, linkId: post.name });
    expect(outcome).toEqual({
      ok: true,
      externalId: posted?.name,
      url: `https://www.reddit.com${posted?.permalink}`,
    });

    // The other account's case goes out as that account, with its own token.
    const second = await adapter().reply(
      request({
        sourceKey: 'reddit:AcmeSupport',
        conversationId: post.name,
        inReplyTo: post.name,
        text: 'Hi!',
      }),
    );
    expect(second.ok).toBe(true);
    expect(reddit.sent[1]).toMatchObject({ author: 'AcmeSupport', parentId: post.name });
    expect(reddit.tokenCalls().map((c) => c.form.username)).toEqual(['AcmeCare', 'AcmeSupport']);
  });

  it('answers the post when the latest message is not known', async () => {
    const { post } = thread();
    expect((await adapter().reply(request({ conversationId: post.name }))).ok).toBe(true);
    expect(reddit.callsTo('POST', '/api/comment')[0]?.form.thing_id).toBe(post.name);
  });

  it("waits as long as Reddit's RATELIMIT error says", async () => {
    const { post } = thread();
    reddit.failNext(
      '/api/comment',
      redditErrors(['RATELIMIT', 'you are doing that too much. try again in 9 minutes.', 'ratelimit']),
    );
    const outcome = await adapter().reply(request({ conversationId: post.name }));
    expect(outcome).toMatchObject({ ok: false, permanent: false, retryAfterMs: 540_000 });
    expect(outcome.ok === false && outcome.reason).toContain('you are doing that too much');
    reddit.failNext('/api/comment', {
      status: 200,
      body: {
        json: {
          ratelimit: 61.5,
          errors: [['RATELIMIT', 'you are doing that too much. try again in 1 minute.', 'ratelimit']],
        },
      },
    });
    expect(await adapter().reply(request({ conversationId: post.name }))).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterMs: 61_500,
    });
    reddit.failNext(
      '/api/comment',
      redditErrors([
        'RATELIMIT',
        'Looks like you have been doing that a lot. Take a break for 30 seconds before trying again.',
        'ratelimit',
      ]),
    );
    expect(await adapter().reply(request({ conversationId: post.name }))).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterMs: 60_000,
    });
    expect(reddit.sent).toHaveLength(0);
  });

  it('gives a locked, archived or deleted thread as a permanent refusal in plain words', async () => {
    const locked = reddit.addPost({ title: 'Locked', author: 'jane_doe', locked: true });
    const lockedOutcome = await adapter().reply(request({ conversationId: locked.name }));
    expect(lockedOutcome).toEqual({
      ok: false,
      permanent: true,
      reason: 'the Reddit thread is locked: only its moderators can comment in it now (THREAD_LOCKED)',
    });
    const archived = reddit.addPost({ title: 'Old', author: 'jane_doe', archived: true });
    const archivedOutcome = await adapter().reply(request({ conversationId: archived.name }));
    expect(archivedOutcome.ok === false && archivedOutcome.permanent && archivedOutcome.reason).toContain(
      'archived',
    );
    const deleted = await adapter().reply(request({ conversationId: 't3_abc', inReplyTo: 't1_gone' }));
    expect(deleted).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('deleted') });
    reddit.failNext('/api/comment', redditErrors(['SOMETHING_NEW', 'a new rule', 'parent']));
    expect(await adapter().reply(request({ conversationId: locked.name }))).toMatchObject({
      ok: false,
      permanent: true,
      reason: 'Reddit refused the comment: a new rule (SOMETHING_NEW)',
    });
    expect(reddit.sent).toHaveLength(0);
  });

  it('waits for x-ratelimit-reset on a 429, and sends nothing while the limit is spent', async () => {
    const { post } = thread();
    reddit.failNext('/api/comment', { status: 429, headers: { 'x-ratelimit-reset': '120' } });
    const limited = await adapter().reply(request({ conversationId: post.name }));
    expect(limited).toMatchObject({ ok: false, permanent: false, retryAfterMs: 120_000 });

    const replies = adapter();
    reddit.setRateLimit({ remaining: 1, resetIn: 90 });
    expect((await replies.reply(request({ conversationId: post.name }))).ok).toBe(true);
    const calls = reddit.calls.length;
    const spent = await replies.reply(request({ conversationId: post.name, idempotencyKey: 'reply-2' }));
    expect(spent).toMatchObject({ ok: false, permanent: false, retryAfterMs: 90_000 });
    expect(reddit.calls).toHaveLength(calls);
    clock.advance(seconds(90));
    expect((await replies.reply(request({ conversationId: post.name, idempotencyKey: 'reply-2' }))).ok).toBe(
      true,
    );
    expect(reddit.sent).toHaveLength(2);
  });

  it('treats a 403 as permanent and 5xx or no answer as passing', async () => {
    const { post } = thread();
    reddit.failNext('/api/comment', { status: 403 });
    const banned = await adapter().reply(request({ conversationId: post.name }));
    expect(banned).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('banned') });
    reddit.failNext('/api/comment', { status: 502 });
    expect(await adapter().reply(request({ conversationId: post.name }))).toMatchObject({
      ok: false,
      permanent: false,
    });
    const offline = redditReplyAdapter(
      [brand],
      { apiUrl: 'http://127.0.0.1:9', authUrl: 'http://127.0.0.1:9' },
      clock,
    );
    expect(await offline.reply(request({ conversationId: post.name }))).toEqual({
      ok: false,
      permanent: false,
      reason: 'Reddit could not be reached; carebot tries again',
      outcomeUnknown: true,
    });
    expect(reddit.sent).toHaveLength(0);
  });

  it('does not post twice when an attempt posted but its answer was lost', async () => {
    const { post, comment } = thread();
    const replies = adapter();
    reddit.failNext('/api/comment', { status: 500, apply: true });
    const lost = await replies.reply(request({ conversationId: post.name, inReplyTo: comment.name }));
    expect(lost).toMatchObject({ ok: false, permanent: false });
    expect(reddit.sent).toHaveLength(1);
    const again = await replies.reply(request({ conversationId: post.name, inReplyTo: comment.name }));
    expect(again).toEqual({
      ok: true,
      externalId: reddit.sent[0]?.name,
      url: `https://www.reddit.com${reddit.sent[0]?.permalink}`,
    });
    expect(reddit.sent).toHaveLength(1);
    expect(reddit.callsTo('GET', '/user/AcmeCare/comments')).toHaveLength(1);
    // A failure that had not posted: the next attempt looks, finds nothing, and posts.
    reddit.failNext('/api/comment', { status: 500 });
    await replies.reply(
      request({ conversationId: post.name, text: 'Second answer', idempotencyKey: 'reply-2' }),
    );
    expect(
      (
        await replies.reply(
          request({ conversationId: post.name, text: 'Second answer', idempotencyKey: 'reply-2' }),
        )
      ).ok,
    ).toBe(true);
    expect(reddit.sent).toHaveLength(2);
  });

  it('renews a revoked token once, and says what to do about a wrong password without echoing it', async () => {
    const { post } = thread();
    const replies = adapter();
    expect((await replies.reply(request({ conversationId: post.name }))).ok).toBe(true);
    reddit.revokeTokens();
    expect((await replies.reply(request({ conversationId: post.name, idempotencyKey: 'reply-2' }))).ok).toBe(
      true,
    );
    expect(reddit.tokenCalls()).toHaveLength(2);

    const wrong = { ...brand, password: 'rd-test-wrong-password' };
    const outcome = await adapter([wrong]).reply(request({ conversationId: post.name }));
    expect(outcome).toMatchObject({ ok: false, permanent: true });
    if (outcome.ok) return;
    expect(outcome.reason).toContain('username and password of u/AcmeCare');
    expect(outcome.reason).toContain('carebot.config.yaml');
    for (const secret of [wrong.password, brand.password, brand.clientSecret]) {
      expect(outcome.reason).not.toContain(secret);
    }
  });

  it('refuses what cannot work before sending', async () => {
    const { post } = thread();
    const tooLong = await adapter().reply(request({ conversationId: post.name, text: 'a'.repeat(10_001) }));
    expect(tooLong).toMatchObject({ ok: false, permanent: true, reason: expect.stringContaining('10001') });
    // Counted in characters, as Reddit counts: 10,000 emoji fit.
    expect(
      (await adapter().reply(request({ conversationId: post.name, text: '🙂'.repeat(10_000) }))).ok,
    ).toBe(true);
    const gone = await adapter().reply(
      request({ sourceKey: 'reddit:someone_else', conversationId: post.name }),
    );
    expect(gone).toMatchObject({ ok: false, permanent: true });
    const moved = await adapter().reply(request({ conversationId: post.name, mode: 'private' }));
    expect(moved).toMatchObject({
      ok: false,
      permanent: true,
      reason: expect.stringContaining('private message'),
    });
    const notAThing = await adapter().reply(request({ conversationId: 'dm:42' }));
    expect(notAThing).toMatchObject({ ok: false, permanent: true });
    expect(reddit.sent).toHaveLength(1);
    expect(reddit.callsTo('POST', '/api/comment')).toHaveLength(1);
    expect(adapter().label('reddit:AcmeCare')).toBe('Reddit');
  });
});
