import { Writable } from 'node:stream';
import { count, ne } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeGraph, fakeFacebookPage, startFakeGraph } from '../../emulators/graph/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { milliseconds, systemClock } from '../../src/care/clock.js';
import { queueReply } from '../../src/care/replies.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { replies } from '../../src/db/schema.js';
import { DeliverReplies } from '../../src/jobs/deliver-replies.js';
import { createLogger } from '../../src/logger.js';
import { GRAPH_TIMEOUT_MS } from '../../src/sources/facebook/client.js';
import { facebookReplyAdapter } from '../../src/sources/facebook/reply.js';
import { eventually } from './support/complaints.js';
import { createDatabase, type ScratchDatabase } from './support/database.js';
import { figure, reliability } from './support/gate.js';
import { setting } from './support/mode.js';

/**
 * Two instances deliver Facebook replies while Graph is slow: some comments are posted at once
 * but answered only after GRAPH_DELAY_MS, past the client's timeout, and every slow call outlasts
 * the reply lease many times over. Each reply must reach the customer once: the lease is kept by
 * its heartbeat, and after a timeout the next attempt finds the comment instead of posting again.
 */
const REPLIES = setting('RELIABILITY_GRAPH_REPLIES', 300, 40);
/** Every n-th comment is answered late. */
const SLOW_EVERY = setting('RELIABILITY_GRAPH_SLOW_EVERY', 10, 4);
const GRAPH_DELAY_MS = setting('RELIABILITY_GRAPH_DELAY_MS', 20_000, 2_000);
const LEASE_MS = setting('RELIABILITY_GRAPH_LEASE_MS', 5_000, 500);
/** The client's Graph timeout: the real one in the full form, scaled down with the delay in the short. */
const TIMEOUT_MS = setting('RELIABILITY_GRAPH_TIMEOUT_MS', GRAPH_TIMEOUT_MS, 1_500);
const DRAIN_MS = setting('RELIABILITY_GRAPH_DRAIN_SECONDS', 400, 55) * 1000;

const page = fakeFacebookPage();
const jane = { id: '6100000000000042', name: 'Jane Doe' };

reliability('two instances delivering while Graph answers late', () => {
  let scratch: ScratchDatabase;
  let graph: FakeGraph;
  const handles: DatabaseHandle[] = [];
  const jobs: DeliverReplies[] = [];
  const logs: string[] = [];
  const logger = createLogger(
    'warn',
    new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );

  beforeAll(async () => {
    scratch = await createDatabase();
    graph = await startFakeGraph({ pages: [page] });
    // Two instances: each its own connection pool, its own delivery job.
    for (let i = 0; i < 2; i++) handles.push(await openDatabase({ url: scratch.url }));
    await handles[0]?.migrate();
  });
  afterAll(async () => {
    for (const job of jobs) await job.stop();
    for (const handle of handles) await handle.close();
    await graph?.close();
    await scratch?.drop();
  });

  it(
    'sends every reply exactly once',
    async () => {
      const [first] = handles as [DatabaseHandle];
      const texts: string[] = [];
      const post = graph.addPost({ pageId: page.pageId, from: { id: page.pageId }, message: 'New menu' });
      for (let i = 0; i < REPLIES; i++) {
        const top = graph.addComment({ postId: post.id, from: jane, message: `Order ${i} never arrived` });
        if (i % SLOW_EVERY === 0)
          graph.slowDown(`/${top.id}/comments`, { ms: GRAPH_DELAY_MS, method: 'POST' });
        const stored = await recordInbound(first.db, systemClock, {
          sourceKey: `facebook:${page.pageId}`,
          platform: 'facebook',
          externalId: top.id,
          conversationId: top.id,
          author: jane,
          text: top.message,
          sentAt: new Date(),
          channelId: 'C0CARE0001',
        });
        const text = `Sorry about order ${i}, a new one is on its way.`;
        texts.push(text);
        await queueReply(first.db, systemClock, {
          caseId: stored.caseId,
          authorId: 'U0AGENT001',
          text,
          origin: { channel: 'C0CARE0001', ts: `1795428000.${String(i).padStart(6, '0')}` },
          findings: [],
          delay: milliseconds(0),
        });
      }

      const started = Date.now();
      const adapter = facebookReplyAdapter([page], graph.url, 'v21.0', systemClock, {
        timeoutMs: TIMEOUT_MS,
      });
      for (const handle of handles) {
        const job = new DeliverReplies({
          db: handle.db,
          clock: systemClock,
          logger,
          adapterFor: () => adapter,
          agentName: async () => 'Sam',
          onFeedback: () => {},
          leaseMs: LEASE_MS,
        });
        jobs.push(job);
        job.start();
      }
      const drained = await eventually(
        async () => {
          const [row] = await first.db.select({ n: count() }).from(replies).where(ne(replies.status, 'sent'));
          return row?.n === 0;
        },
        DRAIN_MS,
        250,
      );
      const seconds = (Date.now() - started) / 1000;
      for (const job of jobs) await job.stop();

      const perText = texts.map((t) => graph.sent.filter((s) => s.text === t).length);
      const looks = graph.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/comments')).length;
      const timeouts = logs.filter((l) => l.includes('did not answer within')).length;
      const leasesLost = logs.filter((l) => l.includes('lease on the reply was lost')).length;
      figure('slow-graph', {
        replies: REPLIES,
        slowComments: Math.ceil(REPLIES / SLOW_EVERY),
        graphDelayMs: GRAPH_DELAY_MS,
        clientTimeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        delivered: perText.filter((n) => n === 1).length,
        doubled: perText.filter((n) => n > 1).length,
        lost: perText.filter((n) => n === 0).length,
        looksBeforeResend: looks,
        timeoutsLogged: timeouts,
        leasesLost,
        seconds: Math.round(seconds * 10) / 10,
      });
      expect(drained).toBe(true);
      expect(perText.filter((n) => n !== 1)).toEqual([]);
      expect(graph.sent).toHaveLength(REPLIES);
      expect(looks).toBeGreaterThan(0);
    },
    DRAIN_MS + 60_000,
  );
});
