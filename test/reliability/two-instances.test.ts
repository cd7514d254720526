import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nextTs, postThreadMessage } from '../../emulators/slack/events.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { type ReplyReceiver, startReplyReceiver } from '../support/reply-receiver.js';
import { claim } from './support/agent.js';
import { complaint, eventually, postComplaint, sleep } from './support/complaints.js';
import { createDatabase, type ScratchDatabase } from './support/database.js';
import { AGENT, CARE_CHANNEL, carebotEnv, SIGNING_SECRET, WEBHOOK_SECRET } from './support/env.js';
import { figure, reliability } from './support/gate.js';
import { setting } from './support/mode.js';
import { type CarebotProcess, startCarebotProcess } from './support/process.js';
import { cardPostsByCase, postCounter } from './support/slack-posts.js';

/** Five minutes of traffic; the short form (CI) runs 8 s. */
const TRAFFIC_MS = setting('RELIABILITY_SECONDS', 300, 8) * 1000;
const CONVERSATIONS = setting('RELIABILITY_TWO_CONVERSATIONS', 40, 20);
/** Pause between complaints: the full form keeps five minutes to a volume a test can count. */
const PACE_MS = setting('RELIABILITY_TWO_PACE_MS', 150, 40);
/** How long the backlog may take to reach Slack and the platform once traffic stops. */
const DRAIN_MS = setting('RELIABILITY_TWO_DRAIN_SECONDS', 60, 30) * 1000;

// Fast SLA clocks so reminders and breaches happen within the run, on both instances' sweeps.
const CONFIG = `
business_hours: always
reply_delay: 1s
sla:
  first_response: 8s
  next_response: 8s
  resolution: 1h
  check_every: 1s
  unclaimed_after: 3s
  release_on_breach: false
`;

reliability('two instances on one database, mixed traffic', () => {
  let slack: FakeSlack;
  let receiver: ReplyReceiver;
  let db: ScratchDatabase;
  let sql: postgres.Sql;
  const instances: CarebotProcess[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    receiver = await startReplyReceiver(WEBHOOK_SECRET);
    db = await createDatabase();
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
    const env = () =>
      carebotEnv({ slackUrl: slack.url, databaseUrl: db.url, replyUrl: receiver.url, configYaml: CONFIG });
    instances.push(await startCarebotProcess(env()));
    instances.push(await startCarebotProcess(env()));
  });
  afterAll(async () => {
    for (const p of instances) await p.stop();
    await sql?.end({ timeout: 5 });
    await db?.drop();
    await receiver?.close();
    await slack?.close();
  });

  it(
    'posts each case, message and reminder once and delivers each reply once',
    async () => {
      const pick = () => instances[Math.floor(Math.random() * instances.length)] as CarebotProcess;
      const both = <T>(f: (p: CarebotProcess) => Promise<T>) => Promise.all(instances.map(f));
      const until = Date.now() + TRAFFIC_MS;
      const sent: string[] = [];
      const redelivered = { webhooks: 0, claims: 0, answers: 0 };
      const cases = new Map<number, { ts?: string; claimed: boolean }>();
      const answers: string[] = [];
      let n = 0;

      const complaints = (async () => {
        while (Date.now() < until) {
          const body = complaint(`m${n}`, `conv-${n % CONVERSATIONS}`);
          n += 1;
          sent.push(body.id);
          // One webhook in ten is delivered to both instances at once (a platform redelivering).
          let res: Awaited<ReturnType<typeof postComplaint>> | undefined;
          if (n % 10 === 0) {
            redelivered.webhooks++;
            [res] = await both((p) => postComplaint(p.url, body));
          } else res = await postComplaint(pick().url, body);
          const caseId = Number(res?.json?.caseId);
          if (Number.isInteger(caseId) && !cases.has(caseId)) cases.set(caseId, { claimed: false });
          await sleep(PACE_MS);
        }
      })();

      const agent = (async () => {
        let i = 0;
        while (Date.now() < until) {
          await sleep(150);
          const posted = cardPostsByCase(slack.calls);
          // Start at a different case each time, so answers spread over the cases.
          const list = [...cases.entries()];
          const rotated = [
            ...list.slice(i % Math.max(1, list.length)),
            ...list.slice(0, i % Math.max(1, list.length)),
          ];
          for (const [caseId, state] of rotated) {
            const ts = posted.get(caseId)?.[0]?.response?.ts;
            if (typeof ts !== 'string') continue;
            state.ts = ts;
            if (!state.claimed) {
              state.claimed = true;
              // Every third click reaches both instances (Slack retrying a slow ack).
              if (caseId % 3 === 0) {
                redelivered.claims++;
                await both((p) => claim(p.url, caseId, ts));
              } else await claim(pick().url, caseId, ts);
              break;
            }
            const owned = await sql`select 1 from cases where id = ${caseId} and owner_id = ${AGENT}`;
            if (owned.length === 0 || i % 2 === 1) continue;
            const text = `answer-${i} for case ${caseId}`;
            answers.push(text);
            const event = { channel: CARE_CHANNEL, threadTs: ts, user: AGENT, text, ts: nextTs() };
            if (i % 4 === 0) {
              // The same Events API delivery reaching both instances.
              redelivered.answers++;
              await both((p) => postThreadMessage(p.url, SIGNING_SECRET, { ...event, eventId: `Ev-${i}` }));
            } else await postThreadMessage(pick().url, SIGNING_SECRET, event);
            break;
          }
          i += 1;
        }
      })();
      await Promise.all([complaints, agent]);

      // Drain: every message in Slack, every reply sent.
      const counter = postCounter();
      const drained = await eventually(
        async () => {
          const posted = counter.update(slack.calls);
          if (!sent.every((id) => (posted.get(id) ?? 0) > 0)) return false;
          const [row] = await sql<
            { n: number }[]
          >`select count(*)::int as n from replies where status <> 'sent'`;
          return row?.n === 0;
        },
        DRAIN_MS,
        250,
      );
      await sleep(2000);
      // Stop both (a graceful stop finishes what is in flight), so nothing is posted while we count.
      for (const p of instances) await p.stop();

      const postsPer = counter.update(slack.calls);
      const perMessage = sent.map((id) => postsPer.get(id) ?? 0);
      const cards = cardPostsByCase(slack.calls);
      const [counts] = await sql<{ cases: number; messages: number; replies: number; reminders: number }[]>`
      select (select count(*)::int from cases) as cases,
             (select count(*)::int from messages where kind = 'inbound') as messages,
             (select count(*)::int from replies) as replies,
             (select count(*)::int from slack_outbox where kind = 'sla' and posted_ts <> '') as reminders`;
      // Every post Slack accepted must be one carebot recorded (a card's thread, an outbox row, a
      // notice): a post whose ts is recorded nowhere is a second copy of something.
      const recorded = new Set(
        (
          await sql<{ ts: string }[]>`select thread_ts as ts from slack_threads
          union all select posted_ts from slack_outbox where posted_ts <> ''
          union all select posted_ts from slack_notices where posted_ts is not null`
        ).map((r) => r.ts),
      );
      const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.ok);
      const unrecordedPosts = posts.filter((c) => !recorded.has(String(c.response?.ts)));
      const threadPosts = posts.filter((c) => c.params.thread_ts);
      const reminderPosts = threadPosts.filter((c) =>
        /^(:hourglass_flowing_sand:|:warning:|:red_circle:|:wave:)/.test(String(c.params.text)),
      );
      const keys = receiver.received.map((r) => r.headers['webhook-id']);
      const deliveredTexts = receiver.received.map((r) => String(r.body.text));
      figure('two-instances', {
        trafficSeconds: TRAFFIC_MS / 1000,
        webhookMessages: sent.length,
        webhooksToBoth: redelivered.webhooks,
        claimsToBoth: redelivered.claims,
        answersToBoth: redelivered.answers,
        cases: counts?.cases,
        threads: cards.size,
        doubledThreads: [...cards.values()].filter((c) => c.length > 1).length,
        messagesLost: perMessage.filter((k) => k === 0).length,
        messagesDoubled: perMessage.filter((k) => k > 1).length,
        reminders: counts?.reminders,
        reminderPosts: reminderPosts.length,
        slackPosts: posts.length,
        unrecordedPosts: unrecordedPosts.length,
        replies: counts?.replies,
        repliesDelivered: receiver.received.length,
        replyKeysDistinct: new Set(keys).size,
      });
      expect(drained).toBe(true);
      expect(counts?.messages).toBe(sent.length);
      expect(perMessage.every((k) => k === 1)).toBe(true);
      expect(cards.size).toBe(counts?.cases);
      expect([...cards.values()].every((c) => c.length === 1)).toBe(true);
      expect(unrecordedPosts).toEqual([]);
      expect(recorded.size).toBe(posts.length);
      expect(counts?.reminders).toBeGreaterThan(0);
      expect(reminderPosts).toHaveLength(counts?.reminders ?? -1);
      expect(counts?.replies).toBe(answers.length);
      expect(receiver.received).toHaveLength(answers.length);
      expect(new Set(keys).size).toBe(answers.length);
      expect([...deliveredTexts].sort()).toEqual([...answers].sort());
    },
    TRAFFIC_MS + DRAIN_MS + 60_000,
  );
});
