import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import {
  complaint,
  deliverComplaint,
  eventually,
  postComplaint,
  sleep,
  type WebhookAnswer,
} from './support/complaints.js';
import { createDatabase, type ScratchDatabase } from './support/database.js';
import { carebotEnv } from './support/env.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { figure, reliability } from './support/gate.js';
import { setting } from './support/mode.js';
import { type CarebotProcess, startCarebotProcess } from './support/process.js';
import { postsMentioning } from './support/slack-posts.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const DOWN_MS = setting('RELIABILITY_DB_DOWN_SECONDS', 4, 2) * 1000;
const CUTS = setting('RELIABILITY_DB_CUTS', 8, 3);

/**
 * "PostgreSQL restarted under load": carebot reaches the database through a TCP proxy that cuts
 * every connection and refuses new ones for a few seconds (the shared server itself is never touched).
 */
reliability('PostgreSQL going away under load', () => {
  let slack: FakeSlack;
  let slackProxy: FaultProxy;
  let db: ScratchDatabase;
  let pg: TcpProxy;
  let sql: postgres.Sql;
  let carebot: CarebotProcess;
  let env: Record<string, string>;
  /**
   * Like a process supervisor (systemd, Kubernetes) restarts carebot when it dies: the database
   * cut can crash it (postgres.js, finding in docs/RELIABILITY.md), and what matters here is
   * that nothing is lost or answered 202 unstored. Crashes are counted in the figures.
   */
  let supervising = true;
  let crashes = 0;
  const supervise = (p: CarebotProcess) => {
    p.child.once('exit', (_code, signal) => {
      if (!supervising || signal === 'SIGKILL') return;
      crashes += 1;
      void (async () => {
        // A start while the database is still away fails its migration: try until it is back.
        while (supervising) {
          try {
            carebot = await startCarebotProcess(env);
            supervise(carebot);
            return;
          } catch {
            await sleep(300);
          }
        }
      })();
    });
  };

  beforeAll(async () => {
    slack = await startFakeSlack();
    slackProxy = await startFaultProxy(slack.url);
    db = await createDatabase();
    pg = await startTcpProxy(db.url);
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    env = carebotEnv({ slackUrl: slackProxy.url, databaseUrl: pg.via(db.url) });
    carebot = await startCarebotProcess(env);
    supervise(carebot);
  });
  afterAll(async () => {
    supervising = false;
    await carebot?.kill();
    await sql?.end({ timeout: 5 });
    await db?.drop();
    await pg?.close();
    await slackProxy?.close();
    await slack?.close();
  });

  /**
   * A sync round cut off by the outage leaves its cases leased for the sync's 60 s (nothing can
   * release them while the database is away), so they reach Slack up to a minute late. The test
   * fast-forwards those leases (taken before the cut) as if the minute had passed.
   */
  const expireLeasesFrom = async (cutAt: number) => {
    const rows = await sql`update cases set slack_lease_until = now() - interval '1 second'
      where slack_lease_until <= ${new Date(cutAt + 60_100)} returning id`;
    return rows.length;
  };

  const duringOutage: WebhookAnswer[] = [];
  const health: number[] = [];

  it('never answers 202 for a complaint it could not store, and stores everything once the database is back', async () => {
    const ids: string[] = [];
    const answers = new Map<string, WebhookAnswer[]>();
    let down = false;
    const deadline = Date.now() + 40_000;
    let sent = 0;
    // Four senders at a steady pace for the whole run; each retries until it gets a 2xx.
    const stopAt = Date.now() + DOWN_MS + 4000;
    const senders = Array.from({ length: 4 }, async (_, s) => {
      while (Date.now() < stopAt) {
        const body = complaint(`db-${s}-${sent++}`, `conv-${s}-${sent % 10}`);
        ids.push(body.id);
        const history = await deliverComplaint(() => carebot.url, body, deadline, 200);
        answers.set(body.id, history);
        // Sent after the cut and answered before the database was back: a request already past its
        // insert when the cut came may still be answered 202 a moment later (and is stored).
        if (down) duringOutage.push(...history.filter((h) => h.sentAt >= downAt && h.at <= upAt()));
        await sleep(25);
      }
    });
    await sleep(2000);
    const downAt = Date.now();
    let upAtValue = Number.POSITIVE_INFINITY;
    const upAt = () => upAtValue;
    down = true;
    pg.down();
    await sleep(200);
    health.push(
      await fetch(`${carebot.url}/healthz`).then(
        (r) => r.status,
        () => 0,
      ),
    );
    await sleep(DOWN_MS);
    upAtValue = Date.now();
    pg.up();
    await Promise.all(senders);
    const reconnected = await eventually(
      async () =>
        (await fetch(`${carebot.url}/healthz`).then(
          (r) => r.status,
          () => 0,
        )) === 200,
      15_000,
    );
    const leasedAtTheCut = await expireLeasesFrom(downAt);

    const stored = new Set(
      (await sql<{ external_id: string }[]>`select external_id from messages where kind = 'inbound'`).map(
        (r) => r.external_id,
      ),
    );
    const accepted = [...answers.entries()]
      .filter(([, h]) => h.some((a) => a.status === 202))
      .map(([id]) => id);
    const allPosted = await eventually(
      () => ids.every((id) => postsMentioning(slack.calls, `[${id}]`).length > 0),
      20_000,
      200,
    );
    const outageStatuses: Record<string, number> = {};
    for (const a of duringOutage) outageStatuses[a.status] = (outageStatuses[a.status] ?? 0) + 1;
    const doubled = ids.filter((id) => postsMentioning(slack.calls, `[${id}]`).length > 1);
    figure('database-down', {
      downMs: DOWN_MS,
      complaints: ids.length,
      requests: [...answers.values()].flat().length,
      answersWhileDown: outageStatuses,
      healthzWhileDown: health[0],
      carebotCrashedAndRestarted: crashes,
      stored: stored.size,
      lost: ids.filter((id) => !stored.has(id)).length,
      postedToSlackOnce: ids.filter((id) => postsMentioning(slack.calls, `[${id}]`).length === 1).length,
      postedTwice: doubled.length,
      casesLeasedAtTheCut: leasedAtTheCut,
    });
    expect(reconnected).toBe(true);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(duringOutage.filter((a) => a.status >= 200 && a.status < 300)).toEqual([]);
    for (const id of accepted) expect(stored.has(id), id).toBe(true);
    expect(stored.size).toBe(ids.length);
    expect(allPosted).toBe(true);
    // Not even a post Slack accepted just as the connection was cut: the next attempt adopts it.
    expect(doubled).toEqual([]);
    // The process survives the cut (finding 2, fixed by scripts/patch-postgres.mjs).
    expect(crashes).toBe(0);
    expect(health[0]).toBe(503);
  });

  // Was a finding (a 500 "internal error"); fixed in e888457: 503 with Retry-After.
  it('answers 503 (not 500) to a webhook while the database is unreachable', async () => {
    expect(duringOutage.length).toBeGreaterThan(0);
    const failed = duringOutage.filter((a) => a.status !== 0);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((a) => a.status === 503)).toBe(true);
  });

  it('answers 401 for a bad signature and 400 for a bad body even while the database is down', async () => {
    pg.down();
    try {
      const unsigned = await fetch(`${carebot.url}/sources/webhook`, { method: 'POST', body: '{}' });
      expect(unsigned.status).toBe(401);
      const invalid = await postComplaint(carebot.url, { source: 'forum' });
      expect(invalid.status).toBe(400);
    } finally {
      pg.up();
    }
  });

  // Was a finding (the card posted again once the database was back); fixed in 333b45e.
  it('posts a card once when the database went away between Slack accepting it and carebot recording it', async () => {
    let cut = false;
    let cutAt = 0;
    slackProxy.beforeAnswer((method) => {
      if (method === 'chat.postMessage' && !cut) {
        cut = true;
        cutAt = Date.now();
        pg.down();
      }
    });
    const res = await postComplaint(carebot.url, complaint('cut-1', 'conv-cut'));
    expect(res.status).toBe(202);
    await eventually(() => cut, 10_000, 20);
    slackProxy.beforeAnswer(undefined);
    await sleep(1000);
    pg.up();
    await eventually(async () => (await fetch(`${carebot.url}/healthz`)).status === 200, 10_000);
    await expireLeasesFrom(cutAt);
    await eventually(
      async () =>
        (
          await sql`select 1 from slack_threads s join cases c on c.id = s.case_id
      where c.conversation_id = 'conv-cut'`
        ).length > 0,
      20_000,
      100,
    );
    await sleep(1500);
    const posts = postsMentioning(slack.calls, '[cut-1]');
    figure('database-cut-during-post', { cardPosts: posts.length });
    expect(posts).toHaveLength(1);
  });

  // Was a finding: postgres.js 3.4.9 threw an uncaught TypeError ("Cannot read properties of null
  // (reading 'write')", connection.js nextWrite, from a setImmediate) when a connection closed with a
  // small write buffered, and the process died at the first or second cut. scripts/patch-postgres.mjs
  // (run at install) repairs the driver; upstream porsager/postgres#1154, #1208.
  it('survives the database connection being cut under traffic, and stores everything after', async () => {
    supervising = false;
    await carebot.kill();
    const p = await startCarebotProcess(env);
    let survived = 0;
    try {
      for (let cycle = 0; cycle < CUTS && p.child.exitCode === null; cycle++) {
        const traffic = Array.from({ length: 20 }, (_, i) =>
          postComplaint(p.url, complaint(`cut-${cycle}-${i}`)),
        );
        await sleep(50);
        pg.down();
        await sleep(500);
        pg.up();
        await Promise.all(traffic);
        await sleep(700);
        if (p.child.exitCode === null) survived += 1;
      }
      const strayRejections = p.log().split('unhandled rejection').length - 1;
      figure('database-cuts', { cuts: CUTS, survived, exitCode: p.child.exitCode, strayRejections });
      expect(p.child.exitCode).toBeNull();
      // Not even contained ones: the driver's array-type lookup used to reject unhandled at a cut.
      expect(strayRejections).toBe(0);
      // And it still works: a complaint after the last cut is stored (postgres.js reconnected).
      await eventually(async () => (await fetch(`${p.url}/healthz`)).status === 200, 15_000);
      expect((await postComplaint(p.url, complaint('after-the-cuts'))).status).toBe(202);
    } finally {
      await p.kill();
    }
  });
});
