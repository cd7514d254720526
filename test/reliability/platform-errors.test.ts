import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { type ReplyReceiver, startReplyReceiver } from '../support/reply-receiver.js';
import { answer, claim, threadOf } from './support/agent.js';
import { complaint, eventually, postComplaint, sleep } from './support/complaints.js';
import { createDatabase, type ScratchDatabase } from './support/database.js';
import { carebotEnv, WEBHOOK_SECRET } from './support/env.js';
import { figure, reliability } from './support/gate.js';
import { setting } from './support/mode.js';
import { type CarebotProcess, startCarebotProcess } from './support/process.js';

const CASES = setting('RELIABILITY_PLATFORM_REPLIES', 8, 4);

reliability('the platform answering 429 and 503, then OK', () => {
  let slack: FakeSlack;
  let receiver: ReplyReceiver;
  let db: ScratchDatabase;
  let sql: postgres.Sql;
  let carebot: CarebotProcess;

  beforeAll(async () => {
    slack = await startFakeSlack();
    receiver = await startReplyReceiver(WEBHOOK_SECRET);
    db = await createDatabase();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    carebot = await startCarebotProcess(
      carebotEnv({
        slackUrl: slack.url,
        databaseUrl: db.url,
        replyUrl: receiver.url,
        configYaml: 'reply_delay: 1s\n',
      }),
    );
  });
  afterAll(async () => {
    await carebot?.stop();
    await sql?.end({ timeout: 5 });
    await db?.drop();
    await receiver?.close();
    await slack?.close();
  });

  it('delivers each reply exactly once, with one idempotency key across its attempts', async () => {
    // Every reply's first attempt meets a 503, its second a 429 (Retry-After 1 s), its third an OK:
    // deterministic, so the backoff (5 s, then 1 s) bounds the run whatever the machine's pace.
    const failures = { length: CASES * 2 };
    receiver.answerByAttempt((attempt) =>
      attempt === 1
        ? { status: 503, body: 'maintenance' }
        : attempt === 2
          ? { status: 429, headers: { 'retry-after': '1' }, body: '{}' }
          : undefined,
    );
    const texts: string[] = [];
    for (let i = 1; i <= CASES; i++) {
      const res = await postComplaint(carebot.url, complaint(`p${i}`));
      expect(res.status).toBe(202);
      const caseId = Number(res.json?.caseId);
      const ts = await threadOf(slack, caseId);
      await claim(carebot.url, caseId, ts);
      await eventually(
        async () => (await sql`select 1 from cases where id = ${caseId} and owner_id is not null`).length > 0,
        5000,
        50,
      );
      const text = `Sorry about that, we are on it (${i})`;
      texts.push(text);
      await answer(carebot.url, ts, text);
    }
    const delivered = await eventually(
      async () => {
        const rows = await sql<{ n: number }[]>`select count(*)::int as n from replies where status = 'sent'`;
        return rows[0]?.n === CASES;
      },
      45_000,
      250,
    );
    await sleep(2000);
    const attemptsPerKey = new Map<string, number>();
    const attemptOf = new Map<(typeof receiver.received)[number], number>();
    for (const r of receiver.received) {
      const key = r.headers['webhook-id'] ?? '';
      attemptsPerKey.set(key, (attemptsPerKey.get(key) ?? 0) + 1);
      attemptOf.set(r, attemptsPerKey.get(key) ?? 0);
    }
    const ok = receiver.received.filter((r) => attemptOf.get(r) === 3);
    const okKeys = ok.map((r) => r.headers['webhook-id']);
    const statuses = await sql<
      { status: string; n: number }[]
    >`select status, count(*)::int as n from replies group by status`;
    figure('platform-429-503', {
      replies: CASES,
      faultsInjected: failures.length,
      requests: receiver.received.length,
      delivered2xx: ok.length,
      distinctKeysDelivered: new Set(okKeys).size,
      duplicated: ok.length - new Set(okKeys).size,
      attemptsPerReply: [...attemptsPerKey.values()],
      lost: CASES - new Set(okKeys).size,
      replyStatuses: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    });
    expect(delivered).toBe(true);
    expect(ok).toHaveLength(CASES);
    expect(new Set(okKeys).size).toBe(CASES);
    expect(ok.map((r) => r.body.text).sort()).toEqual([...texts].sort());
    expect(ok.every((r) => r.verified)).toBe(true);
    // Every failed attempt was retried under the same key: one key per reply, one 2xx per key.
    expect(receiver.received).toHaveLength(CASES + failures.length);
    expect(attemptsPerKey.size).toBe(CASES);
    expect([...attemptsPerKey.values()].every((n) => n === 3)).toBe(true);
  });
});
