/**
 * Acknowledgement: BENCH_ACK_ROUNDS (default 5) rounds of BENCH_ACK_CLICKS (default 200) signed Claim
 * clicks (block_actions) sent at once, each on a different case; per click, the time to carebot's
 * HTTP 200 (Slack gives up after 3 s). Baseline: the same clicks against a bare Bolt app on its
 * HTTPReceiver whose only listener acks.
 *
 * Also per click: the time from sending it to the card's chat.update arriving at the fake Slack (what
 * the person sees change), for BENCH_ACK_LONE (default 20) lone clicks, one after another, and for
 * every click of the bursts. BENCH_ACK_VARIANT names the build measured in the printed summary.
 *
 * Each click goes on its own open keep-alive connection (opened just before the round, not timed):
 * opening 200 connections at once from one process costs the client about 100 ms by itself, which
 * hid the server's part. BENCH_ACK_COLD=1 measures with a new connection per click instead.
 *
 *   npx tsx bench/ack.ts        BENCH_ACK_ROUNDS=2
 */
import http from 'node:http';
import { join } from 'node:path';
import { blockActionPayload, signSlackRequest } from '../emulators/slack/signing.js';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { postComplaint } from '../test/reliability/support/complaints.js';
import { createDatabase } from '../test/reliability/support/database.js';
import {
  AGENT,
  CARE_CHANNEL,
  carebotEnv,
  REPO_ROOT,
  SIGNING_SECRET,
} from '../test/reliability/support/env.js';
import { type CarebotProcess, startCarebotProcess } from '../test/reliability/support/process.js';
import { cardPostsByCase } from '../test/reliability/support/slack-posts.js';
import { envNumber, machine, met, ms, num, ratio, table, writeSection } from './support/report.js';
import { percentile, sleep } from './support/stats.js';

const ROUNDS = envNumber('BENCH_ACK_ROUNDS', 5);
const COLD = process.env.BENCH_ACK_COLD === '1';
const CLICKS = envNumber('BENCH_ACK_CLICKS', 200);
const LONE = envNumber('BENCH_ACK_LONE', 20);
const VARIANT = process.env.BENCH_ACK_VARIANT ?? 'carebot';

const slack = await startFakeSlack();
const scratch = await createDatabase('carebot_bench');

/** One round: every click built and signed first, then all sent at once. */
async function round(target: CarebotProcess, cases: Array<{ id: number; ts: string }>, user: string) {
  const clicks = cases.map(({ id, ts }) => {
    const cardTs = ts;
    const body = new URLSearchParams({
      payload: JSON.stringify(
        blockActionPayload({
          actionId: 'case_claim',
          value: String(id),
          userId: user,
          channelId: CARE_CHANNEL,
          messageTs: ts,
        }),
      ),
    }).toString();
    return {
      cardTs,
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...signSlackRequest(SIGNING_SECRET, body),
      },
    };
  });
  const url = new URL(`${target.url}/slack/events`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clicks.length });
  if (!COLD) {
    // Opens one connection per click (an unsigned request, refused with 401; not timed).
    await Promise.all(clicks.map(() => send(url, agent, { body: '', headers: {} })));
  }
  const times = await Promise.all(
    clicks.map(async (click) => {
      const sentAt = Date.now();
      const started = performance.now();
      const status = await send(url, COLD ? undefined : agent, click);
      return { elapsed: performance.now() - started, status, sentAt, cardTs: click.cardTs };
    }),
  );
  agent.destroy();
  return times;
}

/** One POST; resolves with the status once the answer has been read. */
function send(
  url: URL,
  agent: http.Agent | undefined,
  click: { body: string; headers: Record<string, string> },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: agent ?? new http.Agent({ keepAlive: false }),
        headers: { ...click.headers, 'content-length': Buffer.byteLength(click.body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(click.body);
  });
}

/**
 * Per click, ms from sending it to the first successful chat.update of its card at the fake Slack;
 * waits (up to 60 s) until every card was updated. Clicks without an update count as Infinity.
 */
async function untilUpdated(clicks: Array<{ sentAt: number; cardTs: string }>): Promise<number[]> {
  const wanted = new Set(clicks.map((c) => c.cardTs));
  const updatedAt = new Map<string, number>();
  const deadline = Date.now() + 60_000;
  while (updatedAt.size < wanted.size && Date.now() < deadline) {
    for (const call of slack.callsTo('chat.update')) {
      const ts = String(call.params.ts);
      if (call.ok && wanted.has(ts) && !updatedAt.has(ts)) updatedAt.set(ts, call.at);
    }
    if (updatedAt.size < wanted.size) await sleep(10);
  }
  return clicks.map((c) => (updatedAt.get(c.cardTs) ?? Number.POSITIVE_INFINITY) - c.sentAt);
}

const summary = (all: number[]) => ({
  p50: percentile(all, 50),
  p99: percentile(all, 99),
  max: Math.max(...all),
  n: all.length,
});

async function measure(
  target: CarebotProcess,
  casesFor: (r: number) => Array<{ id: number; ts: string }>,
  settle: () => Promise<void>,
  withUpdates: boolean,
) {
  const all: number[] = [];
  const updates: number[] = [];
  const statuses: Record<number, number> = {};
  for (let r = 0; r < ROUNDS; r++) {
    const times = await round(target, casesFor(r), AGENT);
    for (const t of times) {
      all.push(t.elapsed);
      statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    }
    if (withUpdates) updates.push(...(await untilUpdated(times)));
    await settle();
  }
  return { ...summary(all), statuses, update: withUpdates ? summary(updates) : undefined };
}

/** Lone clicks, one after another, each once the previous card was updated. */
async function lone(target: CarebotProcess, cases: Array<{ id: number; ts: string }>) {
  const acks: number[] = [];
  const updates: number[] = [];
  for (const c of cases) {
    const [t] = await round(target, [c], AGENT);
    if (!t) continue;
    acks.push(t.elapsed);
    updates.push(...(await untilUpdated([t])));
    await sleep(50);
  }
  return { ack: summary(acks), update: summary(updates) };
}

// carebot: one case per click, their cards already in Slack.
const carebot = await startCarebotProcess(carebotEnv({ slackUrl: slack.url, databaseUrl: scratch.url }), {
  schedule: false,
});
let carebotResult: Awaited<ReturnType<typeof measure>>;
let loneResult: Awaited<ReturnType<typeof lone>>;
let boltResult: Awaited<ReturnType<typeof measure>>;
try {
  const seeded = ROUNDS * CLICKS + LONE;
  console.log(`acknowledgement: seeding ${seeded} cases…`);
  const ids: number[] = [];
  for (let i = 0; i < seeded; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, seeded - i) }, (_, j) =>
        postComplaint(carebot.url, {
          source: 'forum',
          id: `ack-${i + j}`,
          author: { id: 'u1' },
          text: `Claim me [ack-${i + j}]`,
        }),
      ),
    );
    ids.push(...batch.map((a) => Number(a.json?.caseId)));
  }
  await carebot.sync();
  const cards = cardPostsByCase(slack.calls);
  const cases = ids.map((id) => ({ id, ts: String(cards.get(id)?.[0]?.response?.ts) }));
  console.log(`  ${LONE} lone Claim clicks…`);
  loneResult = await lone(carebot, cases.slice(ROUNDS * CLICKS));
  console.log(
    `  ${VARIANT} lone: ack p50 ${ms(loneResult.ack.p50)}, p99 ${ms(loneResult.ack.p99)}; click → chat.update p50 ${ms(loneResult.update.p50)}, p99 ${ms(loneResult.update.p99)}, max ${ms(loneResult.update.max)}`,
  );
  console.log(`  ${ROUNDS} rounds of ${CLICKS} simultaneous Claim clicks…`);
  carebotResult = await measure(
    carebot,
    (r) => cases.slice(r * CLICKS, (r + 1) * CLICKS),
    async () => {
      await sleep(500);
      await carebot.sync();
    },
    true,
  );
  const burstUpdate = carebotResult.update;
  if (burstUpdate)
    console.log(
      `  ${VARIANT} burst: click → chat.update p50 ${ms(burstUpdate.p50)}, p99 ${ms(burstUpdate.p99)}, max ${ms(burstUpdate.max)}`,
    );
  const [{ owned } = { owned: 0 }] = await (async () => {
    const postgres = (await import('postgres')).default;
    const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
    const rows = await sql<
      { owned: number }[]
    >`select count(*)::int as owned from cases where owner_id = ${AGENT}`;
    await sql.end();
    return rows;
  })();
  console.log(
    `  carebot: p50 ${ms(carebotResult.p50)}, p99 ${ms(carebotResult.p99)}, max ${ms(carebotResult.max)}; statuses ${JSON.stringify(carebotResult.statuses)}; ${owned} cases claimed`,
  );
} finally {
  await carebot.stop();
}

const bolt = await startCarebotProcess(
  {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-0000-test-bot-token',
    SLACK_API_URL: slack.url,
  },
  { entry: join(REPO_ROOT, 'bench/support/bare-bolt.ts') },
);
try {
  boltResult = await measure(
    bolt,
    () => Array.from({ length: CLICKS }, (_, i) => ({ id: i + 1, ts: '1763900000.000100' })),
    () => sleep(500),
    false,
  );
  console.log(
    `  bare Bolt: p50 ${ms(boltResult.p50)}, p99 ${ms(boltResult.p99)}, max ${ms(boltResult.max)}; statuses ${JSON.stringify(boltResult.statuses)}`,
  );
} finally {
  await bolt.stop();
  await scratch.drop();
  await slack.close();
}
console.log(`  ratio p99 ${ratio(carebotResult.p99 / boltResult.p99)}`);

writeSection(
  'ack',
  `### Acknowledgement of Claim clicks (bench/ack.ts)

${await machine()}
${ROUNDS} rounds of ${CLICKS} signed block_actions Claim clicks sent at once (${num(ROUNDS * CLICKS)} in all), each on a different
case whose card is in Slack; carebot on PostgreSQL. Per click: from sending to the HTTP status, ${COLD ? 'each on a new connection' : 'each on its own keep-alive connection opened just before the round (not timed)'}.
carebot's Claim listener acks first, then claims (database), and the Slack sync updates the card.
Baseline: a bare Bolt app (HTTPReceiver, one action listener that only acks), same clicks.
"Click → card updated": from sending the click to the card's chat.update reaching Slack, what the
person sees; for ${LONE} lone clicks (one after another) and for every click of the bursts.

${table(
  ['', 'p50', 'p99', 'max', 'statuses'],
  [
    [
      'carebot',
      ms(carebotResult.p50),
      ms(carebotResult.p99),
      ms(carebotResult.max),
      JSON.stringify(carebotResult.statuses),
    ],
    [
      'bare Bolt (baseline)',
      ms(boltResult.p50),
      ms(boltResult.p99),
      ms(boltResult.max),
      JSON.stringify(boltResult.statuses),
    ],
  ],
)}

${table(
  ['click → card updated', 'p50', 'p99', 'max', 'clicks'],
  [
    [
      'lone click',
      ms(loneResult.update.p50),
      ms(loneResult.update.p99),
      ms(loneResult.update.max),
      loneResult.update.n,
    ],
    [
      `burst of ${CLICKS}`,
      ms(carebotResult.update?.p50 ?? Number.NaN),
      ms(carebotResult.update?.p99 ?? Number.NaN),
      ms(carebotResult.update?.max ?? Number.NaN),
      carebotResult.update?.n ?? 0,
    ],
  ],
)}
Lone click, time to the HTTP status: p50 ${ms(loneResult.ack.p50)}, p99 ${ms(loneResult.ack.p99)}.

Ratio p99 carebot / bare Bolt: ${ratio(carebotResult.p99 / boltResult.p99)}.
Targets: p99 well under Slack's 3 s: ${met(carebotResult.p99 < 1000)}; p99 under 100 ms: ${met(carebotResult.p99 < 100)} (${ms(carebotResult.p99)}).`,
);
