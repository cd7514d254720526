import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeGraph, fakeFacebookPage, startFakeGraph } from '../../emulators/graph/api.js';
import { facebookReplyAdapter } from '../../src/sources/facebook/reply.js';
import type { ReplyOutcome, ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

const brand = fakeFacebookPage();
const outlet = fakeFacebookPage({
  name: 'outlet',
  pageId: '104000000000000002',
  pageToken: 'EAAtest-page-token-of-outlet',
  appSecret: 'app-secret-of-outlet',
});
const jane = { id: '6100000000000042', name: 'Jane Doe' };
const PSID = '7200000000000001';

const reason = (outcome: ReplyOutcome) => (outcome.ok ? '' : outcome.reason);

describe('Facebook replies', () => {
  let graph: FakeGraph;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T10:00:00Z');
    graph = await startFakeGraph({ pages: [brand, outlet], now: () => clock.now() });
  });
  afterEach(async () => {
    await graph.close();
  });

  const adapter = () => facebookReplyAdapter([brand, outlet], graph.url, 'v21.0', clock);
  const request = (over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: `facebook:${brand.pageId}`,
    conversationId: 'unset',
    inReplyTo: null,
    customerId: jane.id,
    mode: 'public',
    text: 'Sorry about that, Jane. We are on it.',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'reply-1',
    ...over,
  });
  const thread = () => {
    const post = graph.addPost({
      pageId: brand.pageId,
      from: { id: brand.pageId, name: 'Brand' },
      message: 'New menu',
    });
    const top = graph.addComment({ postId: post.id, from: jane, message: 'My order never arrived' });
    return { post, top };
  };

  it("answers under the customer's comment, as the case's Page, with the appsecret_proof", async () => {
    const { top } = thread();
    const outcome = await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }));
    const [call] = graph.callsTo('POST', `/${top.id}/comments`);
    expect(call).toMatchObject({
      version: 'v21.0',
      token: brand.pageToken,
      tokenIn: 'header',
      proofValid: true,
    });
    expect(call?.body).toEqual({ message: 'Sorry about that, Jane. We are on it.' });
    expect(outcome).toEqual({ ok: true, externalId: graph.sent[0]?.id });
    expect(graph.sent[0]).toMatchObject({ kind: 'comment', target: top.id });

    // Another Page's case goes out with that Page's token.
    const other = graph.addPost({ pageId: outlet.pageId, from: jane, message: 'Hello?' });
    await adapter().reply(
      request({ sourceKey: `facebook:${outlet.pageId}`, conversationId: other.id, inReplyTo: other.id }),
    );
    expect(graph.callsTo('POST', `/${other.id}/comments`)[0]).toMatchObject({
      token: outlet.pageToken,
      proofValid: true,
    });
  });

  it('answers a reply on its parent comment, since Facebook threads are two levels deep', async () => {
    const { top } = thread();
    const reply = graph.addComment({ postId: top.postId, parentId: top.id, from: jane, message: 'Hello??' });
    const outcome = await adapter().reply(request({ conversationId: top.id, inReplyTo: reply.id }));
    expect(outcome.ok).toBe(true);
    expect(graph.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `POST /${reply.id}/comments 400`,
      `GET /${reply.id} 200`,
      `POST /${top.id}/comments 200`,
    ]);
    expect(graph.callsTo('GET', `/${reply.id}`)[0]?.query.fields).toBe('parent');
    expect(graph.sent).toHaveLength(1);
  });

  it('answers a Messenger case in Messenger, as a RESPONSE to the customer', async () => {
    const outcome = await adapter().reply(
      request({ conversationId: `messenger:${PSID}`, inReplyTo: 'm_abc', customerId: PSID }),
    );
    const [call] = graph.callsTo('POST', `/${brand.pageId}/messages`);
    expect(call?.body).toEqual({
      recipient: { id: PSID },
      messaging_type: 'RESPONSE',
      message: { text: 'Sorry about that, Jane. We are on it.' },
    });
    expect(outcome).toEqual({ ok: true, externalId: graph.sent[0]?.id });
    expect(graph.sent[0]?.id).toMatch(/^m_/);
  });

  it('after an unknown outcome, finds the comment an earlier attempt posted instead of posting it again', async () => {
    const { top } = thread();
    // The first attempt's answer is lost: Graph posted the comment but the client gave up.
    graph.slowDown(`/${top.id}/comments`, { ms: 600, method: 'POST', times: 1 });
    const slow = facebookReplyAdapter([brand], graph.url, 'v21.0', clock, { timeoutMs: 200 });
    const first = await slow.reply(request({ conversationId: top.id, inReplyTo: top.id }));
    expect(first).toMatchObject({ ok: false, permanent: false, outcomeUnknown: true });
    expect(graph.sent).toHaveLength(1);

    const again = await adapter().reply(
      request({ conversationId: top.id, inReplyTo: top.id, outcomeUnknown: true }),
    );
    expect(again).toMatchObject({ ok: true, externalId: graph.sent[0]?.id });
    expect(graph.sent).toHaveLength(1);
    const [look] = graph.callsTo('GET', `/${top.id}/comments`);
    expect(look).toMatchObject({ token: brand.pageToken, proofValid: true });
    expect(look?.query).toMatchObject({ order: 'reverse_chronological', filter: 'stream' });

    // Another Page's comment, or another text, under the same comment is not this reply.
    graph.addComment({ postId: top.postId, parentId: top.id, from: jane, message: 'Different words' });
    const other = await adapter().reply(
      request({ conversationId: top.id, inReplyTo: top.id, text: 'Different words', outcomeUnknown: true }),
    );
    expect(other.ok).toBe(true);
    expect(graph.sent).toHaveLength(2);
  });

  it('looks under the parent comment for an answer to a reply, which Facebook files there', async () => {
    const { top } = thread();
    const reply = graph.addComment({
      postId: top.postId,
      parentId: top.id,
      from: jane,
      message: 'Still waiting',
    });
    expect((await adapter().reply(request({ conversationId: top.id, inReplyTo: reply.id }))).ok).toBe(true);
    expect(graph.sent).toHaveLength(1);
    const again = await adapter().reply(
      request({ conversationId: top.id, inReplyTo: reply.id, outcomeUnknown: true }),
    );
    expect(again).toMatchObject({ ok: true, externalId: graph.sent[0]?.id });
    expect(graph.sent).toHaveLength(1);
    expect(graph.callsTo('GET', `/${top.id}/comments`)).toHaveLength(1);
  });

  it('after an unknown outcome, finds the Messenger message an earlier attempt sent', async () => {
    const messenger = { conversationId: `messenger:${PSID}`, inReplyTo: 'm_abc', customerId: PSID };
    graph.slowDown(`/${brand.pageId}/messages`, { ms: 600, method: 'POST', times: 1 });
    const slow = facebookReplyAdapter([brand], graph.url, 'v21.0', clock, { timeoutMs: 200 });
    expect(await slow.reply(request(messenger))).toMatchObject({ ok: false, outcomeUnknown: true });
    expect(graph.sent).toHaveLength(1);

    const again = await adapter().reply(request({ ...messenger, outcomeUnknown: true }));
    expect(again).toMatchObject({ ok: true, externalId: graph.sent[0]?.id });
    expect(graph.sent).toHaveLength(1);
    const [look] = graph.callsTo('GET', `/${brand.pageId}/conversations`);
    expect(look?.query).toMatchObject({ platform: 'messenger', user_id: PSID });

    // Nothing found (no earlier message to this person): it is sent.
    const fresh = await adapter().reply(
      request({ ...messenger, conversationId: 'messenger:7200000000000009', outcomeUnknown: true }),
    );
    expect(fresh.ok).toBe(true);
    expect(graph.sent).toHaveLength(2);
  });

  it('counts a private reply Graph refuses as already given as a repeat, not a new failure', async () => {
    const { top } = thread();
    const privately = request({ conversationId: top.id, inReplyTo: top.id, mode: 'private' });
    expect((await adapter().reply(privately)).ok).toBe(true);
    const again = await adapter().reply({ ...privately, outcomeUnknown: true });
    expect(again).toMatchObject({ ok: false, duplicate: true });
    expect(graph.sent).toHaveLength(1);
  });

  it('moves a comment to a private reply when the agent chose private, once per comment', async () => {
    const { post, top } = thread();
    const outcome = await adapter().reply(
      request({ conversationId: top.id, inReplyTo: top.id, mode: 'private' }),
    );
    expect(outcome.ok).toBe(true);
    expect(graph.callsTo('POST', `/${brand.pageId}/messages`)[0]?.body).toEqual({
      recipient: { comment_id: top.id },
      message: { text: 'Sorry about that, Jane. We are on it.' },
    });
    expect(graph.callsTo('POST', `/${top.id}/comments`)).toHaveLength(0);

    const again = await adapter().reply(
      request({ conversationId: top.id, inReplyTo: top.id, mode: 'private' }),
    );
    expect(again).toMatchObject({ ok: false, permanent: true });
    expect(reason(again)).toContain('one private reply to each comment');

    // A visitor post is answered privately by its post id.
    const visitor = graph.addPost({ pageId: brand.pageId, from: jane, message: 'Closed at 3pm?' });
    await adapter().reply(request({ conversationId: visitor.id, inReplyTo: visitor.id, mode: 'private' }));
    expect(graph.callsTo('POST', `/${brand.pageId}/messages`)[2]?.body).toMatchObject({
      recipient: { post_id: visitor.id },
    });
    expect(post.id).not.toBe(visitor.id);
  });

  it('says plainly what to do when the Page token expired, without echoing secrets', async () => {
    const { top } = thread();
    graph.failNext(`/${top.id}/comments`, {
      error: {
        code: 190,
        error_subcode: 463,
        type: 'OAuthException',
        message: `Error validating access token: Session has expired on Monday, 23-Nov-26 01:00:00 PST. (${brand.pageToken})`,
      },
    });
    const outcome = await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }));
    expect(outcome).toMatchObject({ ok: false, permanent: true, credentials: true });
    const text = reason(outcome);
    expect(text).toContain('The Facebook Page token of "brand" has expired');
    expect(text).toContain('Generate a new Page access token');
    for (const secret of [brand.pageToken, brand.appSecret]) expect(text).not.toContain(secret);
    // The default Page's token lives in the environment.
    const fromEnv = facebookReplyAdapter([{ ...brand, name: 'default' }], graph.url, 'v21.0', clock);
    graph.failNext(`/${top.id}/comments`, { error: { code: 190, message: 'Error validating access token' } });
    expect(reason(await fromEnv.reply(request({ conversationId: top.id, inReplyTo: top.id })))).toContain(
      'update FACEBOOK_PAGE_TOKEN',
    );
    // Once the token works again, so does the reply.
    expect((await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }))).ok).toBe(true);
    expect(graph.sent).toHaveLength(1);
  });

  it('waits out throttling, by the usage header when Graph gives one and five minutes when not', async () => {
    const { top } = thread();
    graph.failNext(`/${top.id}/comments`, {
      error: { code: 613, message: 'Calls to this api have exceeded the rate limit.' },
      headers: {
        'x-business-use-case-usage': JSON.stringify({
          [brand.pageId]: [
            {
              type: 'pages',
              call_count: 100,
              total_cputime: 20,
              total_time: 30,
              estimated_time_to_regain_access: 12,
            },
          ],
        }),
      },
    });
    const limited = await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }));
    expect(limited).toMatchObject({ ok: false, permanent: false, retryAfterMs: 12 * 60_000 });
    expect(reason(limited)).toContain('limiting how often the Page "brand"');

    graph.failNext(`/${brand.pageId}/messages`, {
      error: { code: 4, message: '(#4) Application request limit reached' },
    });
    const app = await adapter().reply(request({ conversationId: `messenger:${PSID}` }));
    expect(app).toMatchObject({ ok: false, permanent: false, retryAfterMs: 5 * 60_000 });

    graph.failNext(`/${top.id}/comments`, {
      status: 429,
      error: { code: 32, message: 'Page request limit reached' },
    });
    expect(await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }))).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterMs: 5 * 60_000,
    });
    expect(graph.sent).toHaveLength(0);
    expect((await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }))).ok).toBe(true);
  });

  it("explains Messenger's 24-hour window in plain words", async () => {
    graph.failNext(`/${brand.pageId}/messages`, {
      error: {
        code: 10,
        error_subcode: 2018278,
        type: 'OAuthException',
        message: '(#10) This message is sent outside of allowed window.',
      },
    });
    const outcome = await adapter().reply(request({ conversationId: `messenger:${PSID}` }));
    expect(outcome).toMatchObject({ ok: false, permanent: true });
    expect(reason(outcome)).toBe(
      "Messenger lets a business answer only within 24 hours of the customer's last message, and that window has closed: ask the customer to write again (their next message opens it again), or answer publicly if they also commented",
    );
    graph.failNext(`/${brand.pageId}/messages`, {
      error: { code: 551, error_subcode: 1545041, message: "This person isn't available right now." },
    });
    expect(reason(await adapter().reply(request({ conversationId: `messenger:${PSID}` })))).toContain(
      "can't be reached by message",
    );
  });

  it('says when the comment was deleted, retries Graph errors, and refuses what cannot work', async () => {
    const gone = await adapter().reply(
      request({ conversationId: '1_2', inReplyTo: '9007199254740993001_404' }),
    );
    expect(gone).toMatchObject({ ok: false, permanent: true });
    expect(reason(gone)).toContain('deleted or is hidden');

    const { top } = thread();
    graph.failNext(`/${top.id}/comments`, {
      status: 500,
      error: {
        code: 2,
        message: 'An unexpected error has occurred. Please retry your request later.',
        is_transient: true,
      },
    });
    // A 5xx or no answer at all may come after Graph did the work: the next attempt looks first.
    expect(await adapter().reply(request({ conversationId: top.id, inReplyTo: top.id }))).toMatchObject({
      ok: false,
      permanent: false,
      outcomeUnknown: true,
    });
    const offline = facebookReplyAdapter([brand], 'http://127.0.0.1:9', 'v21.0', clock);
    expect(await offline.reply(request({ conversationId: top.id }))).toEqual({
      ok: false,
      permanent: false,
      reason: "Meta's Graph API (Facebook and Instagram) could not be reached",
      outcomeUnknown: true,
    });
    graph.failNext(`/${top.id}/comments`, {
      error: { code: 200, message: '(#200) Permissions error' },
    });
    const denied = reason(await adapter().reply(request({ conversationId: top.id })));
    expect(denied).toContain('lacks a permission');
    expect(denied).toContain('pages_manage_engagement');

    expect(await adapter().reply(request({ sourceKey: 'facebook:1' }))).toMatchObject({
      ok: false,
      permanent: true,
    });
    const tooLong = await adapter().reply(
      request({ conversationId: `messenger:${PSID}`, text: 'a'.repeat(2001) }),
    );
    expect(reason(tooLong)).toContain('2001');
    expect(graph.sent).toHaveLength(0);
    expect(adapter().label(`facebook:${brand.pageId}`)).toBe('Facebook');
  });
});
