import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeGraph, fakeFacebookPage, startFakeGraph } from '../../emulators/graph/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { type Clock, milliseconds, seconds } from '../../src/care/clock.js';
import { queueReply } from '../../src/care/replies.js';
import { leaseDueReplies, markFailed, markRetry, markSent } from '../../src/care/reply-delivery.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { messages, replies } from '../../src/db/schema.js';
import { DeliverReplies } from '../../src/jobs/deliver-replies.js';
import { createLogger } from '../../src/logger.js';
import { facebookReplyAdapter } from '../../src/sources/facebook/reply.js';
import type { ReplyAdapter } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const page = fakeFacebookPage();
const jane = { id: '6100000000000042', name: 'Jane Doe' };
const TEXT = 'Sorry about that, Jane. A new order is on its way.';

describe('reply leases', () => {
  let handle: DatabaseHandle;
  let graph: FakeGraph;
  let clock: ManualClock;
  const logs: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );

  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle?.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    logs.length = 0;
    clock = new ManualClock('2026-11-23T10:00:00Z');
    graph = await startFakeGraph({ pages: [page] });
  });
  afterEach(async () => {
    await graph.close();
  });

  /** A Facebook comment case with one reply whose undo window is over. */
  async function caseWithReply(at: Clock = clock) {
    const post = graph.addPost({ pageId: page.pageId, from: { id: page.pageId }, message: 'New menu' });
    const top = graph.addComment({ postId: post.id, from: jane, message: 'My order never arrived' });
    const stored = await recordInbound(handle.db, at, {
      sourceKey: `facebook:${page.pageId}`,
      platform: 'facebook',
      externalId: top.id,
      conversationId: top.id,
      author: { id: jane.id, name: jane.name },
      text: top.message,
      sentAt: at.now(),
      channelId: 'C0CARE0001',
    });
    const queued = await queueReply(handle.db, at, {
      caseId: stored.caseId,
      authorId: 'U0AGENT01',
      text: TEXT,
      origin: { channel: 'C0CARE0001', ts: '1795428000.000100' },
      findings: [],
      delay: milliseconds(0),
    });
    return { top, caseId: stored.caseId, replyId: queued.reply?.id as number };
  }

  const outbound = () => handle.db.select().from(messages).where(eq(messages.kind, 'outbound'));
  const replyRow = async (id: number) =>
    (await handle.db.select().from(replies).where(eq(replies.id, id)))[0];

  function deliverer(options: { adapter: ReplyAdapter; at: Clock; leaseMs: number }) {
    return new DeliverReplies({
      db: handle.db,
      clock: options.at,
      logger,
      adapterFor: (platform) => (platform === 'facebook' ? options.adapter : undefined),
      agentName: async () => 'Sam',
      onFeedback: () => {},
      leaseMs: options.leaseMs,
    });
  }

  it('ends a lease only with its token: a stale holder can neither mark it sent nor failed', async () => {
    const { replyId } = await caseWithReply();
    const [first] = await leaseDueReplies(handle.db, clock, 1, 1000);
    expect(first?.id).toBe(replyId);
    // The first holder stalls past its lease; a second instance takes the reply over.
    clock.advance(seconds(2));
    const [second] = await leaseDueReplies(handle.db, clock, 1, 1000);
    expect(second?.id).toBe(replyId);
    if (!first || !second) throw new Error('not leased');

    // The stale holder's answer arrives: it changes nothing.
    await markSent(handle.db, clock, first, { externalId: 'stale' });
    expect(await replyRow(replyId)).toMatchObject({ status: 'sending', externalId: null });
    expect(await outbound()).toHaveLength(0);
    expect(await markFailed(handle.db, clock, first, 'stale')).toBe(false);
    expect(await markRetry(handle.db, clock, first, 'stale', clock.now())).toBe(false);
    expect(await replyRow(replyId)).toMatchObject({ status: 'sending', leaseToken: second.leaseToken });
    expect(second.leaseToken).not.toBe(first.leaseToken);
    // Taken from an expired lease: the earlier send may have gone out.
    expect(second.outcomeUnknown).toBe(true);

    expect(await markSent(handle.db, clock, second, { externalId: 'fresh' })).toBe(true);
    expect(await replyRow(replyId)).toMatchObject({ status: 'sent', externalId: 'fresh', leaseToken: null });
    expect(await outbound()).toHaveLength(1);
  });

  it('keeps a reply whose send outlasts the lease: a second instance does not send it again', async () => {
    // Graph takes 3 s to answer the comment; the lease is 300 ms of the injected clock, which the
    // test moves past it, step by step, while the send is on its way.
    const { top, replyId } = await caseWithReply();
    graph.slowDown(`/${top.id}/comments`, { ms: 3000, method: 'POST' });
    const adapter = facebookReplyAdapter([page], graph.url, 'v21.0', clock);
    const a = deliverer({ adapter, at: clock, leaseMs: 300 });
    const b = deliverer({ adapter, at: clock, leaseMs: 300 });

    const sending = a.runOnce();
    await vi.waitFor(async () => expect((await replyRow(replyId))?.status).toBe('sending'));
    let tookOver = 0;
    for (let step = 0; step < 4; step++) {
      clock.advance(milliseconds(200));
      // The heartbeat pushes the lease ahead of the clock while Graph has not answered.
      await vi.waitFor(
        async () => {
          const row = await replyRow(replyId);
          expect(row?.status !== 'sending' || (row.leaseUntil as Date) > clock.now()).toBe(true);
        },
        { timeout: 2000, interval: 20 },
      );
      tookOver += await b.runOnce();
    }
    expect(await sending).toBe(1);

    expect(tookOver).toBe(0);
    expect(graph.sent.filter((s) => s.text === TEXT)).toHaveLength(1);
    expect(await replyRow(replyId)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await outbound()).toHaveLength(1);
  });

  it('after Graph answers too late, looks for the comment and does not post it again', async () => {
    const { top, replyId } = await caseWithReply();
    // Graph creates the comment at once but answers after the client gave up (300 ms here).
    graph.slowDown(`/${top.id}/comments`, { ms: 800, method: 'POST', times: 1 });
    const adapter = facebookReplyAdapter([page], graph.url, 'v21.0', clock, { timeoutMs: 300 });
    const job = deliverer({ adapter, at: clock, leaseMs: 60_000 });

    expect(await job.runOnce()).toBe(1);
    expect(await replyRow(replyId)).toMatchObject({ status: 'pending', outcomeUnknown: true });
    expect(graph.sent).toHaveLength(1);

    clock.advance(seconds(6));
    expect(await job.runOnce()).toBe(1);
    const row = await replyRow(replyId);
    expect(row).toMatchObject({ status: 'sent', externalId: graph.sent[0]?.id, attempts: 2 });
    expect(graph.sent).toHaveLength(1);
    expect(graph.callsTo('GET', `/${top.id}/comments`)).toHaveLength(1);
    expect(graph.callsTo('POST', `/${top.id}/comments`)).toHaveLength(1);
    expect(await outbound()).toHaveLength(1);
  });

  it('after a lost answer, sends again when the earlier attempt did not go through', async () => {
    const { top, replyId } = await caseWithReply();
    graph.failNext(`/${top.id}/comments`, {
      status: 503,
      method: 'POST',
      error: { code: 2, message: 'Service temporarily unavailable', is_transient: true },
    });
    const adapter = facebookReplyAdapter([page], graph.url, 'v21.0', clock);
    const job = deliverer({ adapter, at: clock, leaseMs: 60_000 });
    await job.runOnce();
    expect(await replyRow(replyId)).toMatchObject({ status: 'pending', outcomeUnknown: true });
    clock.advance(seconds(6));
    await job.runOnce();
    expect(graph.callsTo('GET', `/${top.id}/comments`)).toHaveLength(1);
    expect(graph.sent).toHaveLength(1);
    expect(await replyRow(replyId)).toMatchObject({ status: 'sent', outcomeUnknown: false });
  });

  it("resolves the agent's name before leasing, never while a reply is leased", async () => {
    const { replyId } = await caseWithReply();
    const adapter = facebookReplyAdapter([page], graph.url, 'v21.0', clock);
    const seen: Array<{ status: string | undefined }> = [];
    const job = new DeliverReplies({
      db: handle.db,
      clock,
      logger,
      adapterFor: () => adapter,
      agentName: async (userId) => {
        const [row] = await handle.db
          .select({ status: replies.status })
          .from(replies)
          .where(and(eq(replies.id, replyId), eq(replies.authorId, userId)));
        seen.push({ status: row?.status });
        return 'Sam';
      },
      onFeedback: () => {},
    });
    await job.runOnce();
    expect(seen).toEqual([{ status: 'pending' }]);
    expect(await replyRow(replyId)).toMatchObject({ status: 'sent' });
  });
});
