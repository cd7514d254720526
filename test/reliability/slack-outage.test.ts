import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { complaint, eventually, postComplaint, sleep } from './support/complaints.js';
import { createDatabase, type ScratchDatabase } from './support/database.js';
import { carebotEnv } from './support/env.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { figure, reliability } from './support/gate.js';
import { setting } from './support/mode.js';
import { type CarebotProcess, startCarebotProcess } from './support/process.js';
import { cardPostsByCase, postsMentioning } from './support/slack-posts.js';

/** The two minutes; the short form (CI) uses 5 s. */
const OUTAGE_MS = setting('RELIABILITY_OUTAGE_SECONDS', 120, 5) * 1000;
/** How long to wait for a late double post after everything arrived. */
const LATE_DOUBLE_MS = setting('RELIABILITY_LATE_DOUBLE_MS', 3000, 1000);
const CONVERSATIONS = setting('RELIABILITY_OUTAGE_CONVERSATIONS', 40, 15);

reliability('Slack answering HTTP 500 for a while, then recovering', () => {
  let slack: FakeSlack;
  let proxy: FaultProxy;
  let db: ScratchDatabase;
  let carebot: CarebotProcess;

  beforeAll(async () => {
    slack = await startFakeSlack();
    proxy = await startFaultProxy(slack.url);
    db = await createDatabase();
    carebot = await startCarebotProcess(carebotEnv({ slackUrl: proxy.url, databaseUrl: db.url }));
  });
  afterAll(async () => {
    await carebot?.stop();
    await db?.drop();
    await proxy?.close();
    await slack?.close();
  });

  it(
    'accepts every complaint during the outage and posts each exactly once, in order, after it',
    async () => {
      proxy.setFault({ status: 500 });
      const outageStarted = Date.now();
      const ids: string[] = [];
      const statuses: number[] = [];
      // Two messages per conversation during the outage, one more after it.
      for (const k of [0, 1]) {
        for (let c = 0; c < CONVERSATIONS; c++) {
          const body = complaint(`k${k}-c${c}`, `conv-${c}`);
          ids.push(body.id);
          statuses.push((await postComplaint(carebot.url, body)).status);
        }
      }
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
      const faulted = proxy.stats.faulted;
      proxy.setFault(undefined);
      const recoveredAt = Date.now();
      for (let c = 0; c < CONVERSATIONS; c++) {
        const body = complaint(`k2-c${c}`, `conv-${c}`);
        ids.push(body.id);
        statuses.push((await postComplaint(carebot.url, body)).status);
      }
      expect(statuses.every((s) => s === 202)).toBe(true);
      const drained = await eventually(
        () => ids.every((id) => postsMentioning(slack.calls, `[${id}]`).length > 0),
        OUTAGE_MS + 40_000,
        100,
      );
      const drainMs = Date.now() - recoveredAt;
      await sleep(LATE_DOUBLE_MS);
      const counts = ids.map((id) => postsMentioning(slack.calls, `[${id}]`).length);
      const cards = cardPostsByCase(slack.calls);
      figure('slack-500', {
        outageSeconds: OUTAGE_MS / 1000,
        complaints: ids.length,
        callsAnswered500: faulted,
        drainAfterRecoveryMs: drainMs,
        lost: counts.filter((n) => n === 0).length,
        duplicated: counts.filter((n) => n > 1).length,
        threads: cards.size,
      });
      expect(drained).toBe(true);
      expect(counts.every((n) => n === 1)).toBe(true);
      expect(cards.size).toBe(CONVERSATIONS);
      expect([...cards.values()].every((calls) => calls.length === 1)).toBe(true);
      for (let c = 0; c < CONVERSATIONS; c++) {
        const at = [0, 1, 2].map((k) => postsMentioning(slack.calls, `[k${k}-c${c}]`)[0]?.at ?? 0);
        expect(at, `order in conv-${c}`).toEqual([...at].sort((a, b) => a - b));
      }
    },
    OUTAGE_MS + 70_000,
  );
});
