import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeGraph, fakeFacebookPage, startFakeGraph } from '../../emulators/graph/api.js';
import { instagramReplyAdapter } from '../../src/sources/instagram/reply.js';
import type { ReplyOutcome, ReplyRequest } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

const brand = fakeFacebookPage();
const IG = brand.instagramAccountId as string;
const reason = (outcome: ReplyOutcome) => (outcome.ok ? '' : outcome.reason);

describe('Instagram replies', () => {
  let graph: FakeGraph;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T10:00:00Z');
    graph = await startFakeGraph({ pages: [brand], now: () => clock.now() });
  });
  afterEach(async () => {
    await graph.close();
  });

  const adapter = () => instagramReplyAdapter([brand], graph.url, 'v21.0', clock);
  const request = (over: Partial<ReplyRequest> = {}): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: `instagram:${IG}`,
    conversationId: '17860000000000001',
    inReplyTo: '17860000000000001',
    customerId: '17841400000000042',
    mode: 'public',
    text: 'So sorry! Could you send us your order number?',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'reply-1',
    ...over,
  });
  const comment = (id = '17860000000000001', parentId?: string) =>
    graph.addInstagramComment({
      id,
      mediaId: '17900000000000001',
      username: 'jane.doe',
      text: 'Refund?',
      parentId,
    });

  it("replies in the comment's thread with the Page token", async () => {
    comment();
    comment('17860000000000003', '17860000000000001');
    const outcome = await adapter().reply(request({ inReplyTo: '17860000000000003' }));
    const [call] = graph.callsTo('POST', '/17860000000000003/replies');
    expect(call).toMatchObject({ version: 'v21.0', token: brand.pageToken, proofValid: true });
    expect(call?.body).toEqual({ message: 'So sorry! Could you send us your order number?' });
    expect(outcome).toEqual({ ok: true, externalId: graph.sent[0]?.id });
    // Without a known latest comment, the thread's top-level comment.
    await adapter().reply(request({ inReplyTo: null }));
    expect(graph.callsTo('POST', '/17860000000000001/replies')).toHaveLength(1);
    expect(adapter().label(`instagram:${IG}`)).toBe('Instagram');
  });

  it('after an unknown outcome, finds the thread reply an earlier attempt posted', async () => {
    comment();
    comment('17860000000000003', '17860000000000001');
    graph.slowDown('/17860000000000003/replies', { ms: 600, method: 'POST', times: 1 });
    const slow = instagramReplyAdapter([brand], graph.url, 'v21.0', clock, { timeoutMs: 200 });
    const first = await slow.reply(request({ inReplyTo: '17860000000000003' }));
    expect(first).toMatchObject({ ok: false, permanent: false, outcomeUnknown: true });
    expect(graph.sent).toHaveLength(1);

    // Instagram filed it under the top-level comment; the look finds it there.
    const again = await adapter().reply(request({ inReplyTo: '17860000000000003', outcomeUnknown: true }));
    expect(again).toMatchObject({ ok: true, externalId: graph.sent[0]?.id });
    expect(graph.sent).toHaveLength(1);
    expect(graph.callsTo('GET', '/17860000000000001/replies')).toHaveLength(1);

    // The customer's own words in the thread are not the account's reply.
    const other = await adapter().reply(request({ text: 'Refund?', outcomeUnknown: true }));
    expect(other.ok).toBe(true);
    expect(graph.sent).toHaveLength(2);
  });

  it('answers @mentions through the mentions edge, and refuses to take them private', async () => {
    const onComment = await adapter().reply(
      request({ conversationId: 'mention:17900000000000777', inReplyTo: '17860000000000500' }),
    );
    expect(onComment.ok).toBe(true);
    const onCaption = await adapter().reply(
      request({ conversationId: 'mention:17900000000000888', inReplyTo: '17900000000000888' }),
    );
    expect(onCaption.ok).toBe(true);
    expect(graph.callsTo('POST', `/${IG}/mentions`).map((c) => c.body)).toEqual([
      { media_id: '17900000000000777', comment_id: '17860000000000500', message: request().text },
      { media_id: '17900000000000888', message: request().text },
    ]);
    const moved = await adapter().reply(
      request({
        conversationId: 'mention:17900000000000777',
        inReplyTo: '17860000000000500',
        mode: 'private',
      }),
    );
    expect(moved).toMatchObject({ ok: false, permanent: true });
    expect(reason(moved)).toContain('answer this @mention publicly');
  });

  it('sends a private reply to a comment when the agent chose private', async () => {
    comment();
    expect((await adapter().reply(request({ mode: 'private' }))).ok).toBe(true);
    expect(graph.callsTo('POST', `/${brand.pageId}/messages`)[0]?.body).toEqual({
      recipient: { comment_id: '17860000000000001' },
      message: { text: request().text },
    });
    expect(graph.sent[0]?.kind).toBe('private_reply');
  });

  it('maps expired tokens, throttling and deleted comments to plain outcomes', async () => {
    comment();
    graph.failNext('/17860000000000001/replies', {
      error: { code: 190, error_subcode: 460, message: 'Error validating access token: password changed' },
    });
    const expired = await adapter().reply(request());
    expect(expired).toMatchObject({ ok: false, permanent: true });
    expect(reason(expired)).toContain('password of the person who issued it changed');
    expect(reason(expired)).not.toContain(brand.pageToken);

    graph.failNext('/17860000000000001/replies', {
      error: { code: 80002, message: 'There have been too many calls to this Instagram account.' },
      headers: {
        'x-business-use-case-usage': JSON.stringify({
          [IG]: [{ type: 'instagram', call_count: 100, estimated_time_to_regain_access: 3 }],
        }),
      },
    });
    expect(await adapter().reply(request())).toMatchObject({
      ok: false,
      permanent: false,
      retryAfterMs: 180_000,
    });

    const gone = await adapter().reply(request({ inReplyTo: '17860000000000404' }));
    expect(gone).toMatchObject({ ok: false, permanent: true });
    expect(reason(gone)).toContain('deleted');
    expect(await adapter().reply(request({ sourceKey: 'instagram:1' }))).toMatchObject({
      ok: false,
      permanent: true,
    });
    expect(reason(await adapter().reply(request({ text: 'a'.repeat(2201) })))).toContain('2201');
    expect(graph.sent).toHaveLength(0);
  });
});
