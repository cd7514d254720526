/**
 * Acknowledgement: BENCH_ACK_ROUNDS (default 5) rounds of BENCH_ACK_CLICKS (default 200) signed Claim
 * clicks (block_actions) sent at once, each on a different case; per click, the time to carebot's
 * HTTP 200 (Slack gives up after 3 s). Baseline: the same clicks against a bare Bolt app on its
 * HTTPReceiver whose only listener acks.
 *
 * Each click goes on its own open keep-alive connection (opened just before the round, not timed):
 * opening 200 connections at once from one process costs the client about 100 ms by itself, which
 * hid the server's part. BENCH_ACK_COLD=1 measures with a new connection per click instead.
 *
 *   npx tsx bench/ack.ts        BENCH_ACK_ROUNDS=2
 */
import http from 'node:http';
import { join } from 'node:path';
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
import { startFakeSlack } from '../test/support/fake-slack.js';
import { blockActionPayload, signSlackRequest } from '../test/support/slack-signing.js';
import { envNumber, machine, met, ms, num, ratio, table, writeSection } from './support/report.js';
import { percentile, sleep } from './support/stats.js';

const ROUNDS = envNumber('BENCH_ACK_ROUNDS', 5);
const COLD = process.env.BENCH_ACK_COLD === '1';
const CLICKS = envNumber('BENCH_ACK_CLICKS', 200);

const slack = await startFakeSlack();
const scratch = await createDatabase('carebot_bench');

/** One round: every click built and signed first, then all sent at once. */
async function round(target: CarebotProcess, cases: Array<{ id: number; ts: string }>, user: string) {
  const clicks = cases.map(({ id, ts }) => {
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
      const started = performance.now();
      const status = await send(url, COLD ? undefined : agent, click);
      return { elapsed: performance.now() - started, status };
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

async function measure(
  target: CarebotProcess,
  casesFor: (r: number) => Array<{ id: number; ts: string }>,
  settle: () => Promise<void>,
) {
  const all: number[] = [];
  const statuses: Record<number, number> = {};
  for (let r = 0; r < ROUNDS; r++) {
    const times = await round(target, casesFor(r), AGENT);
    for (const t of times) {
      all.push(t.elapsed);
      statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    }
    await settle();
  }
  return {
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: Math.max(...all),
    statuses,
    n: all.length,
  };
}

// carebot: one case per click, their cards already in Slack.
const carebot = await startCarebotProcess(carebotEnv({ slackUrl: slack.url, databaseUrl: scratch.url }), {
  schedule: false,
});
let carebotResult: Awaited<ReturnType<typeof measure>>;
let boltResult: Awaited<ReturnType<typeof measure>>;
try {
  console.log(`acknowledgement: seeding ${ROUNDS * CLICKS} cases…`);
  const ids: number[] = [];
  for (let i = 0; i < ROUNDS * CLICKS; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, ROUNDS * CLICKS - i) }, (_, j) =>
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
  console.log(`  ${ROUNDS} rounds of ${CLICKS} simultaneous Claim clicks…`);
  carebotResult = await measure(
    carebot,
    (r) => cases.slice(r * CLICKS, (r + 1) * CLICKS),
    async () => {
      await sleep(500);
      await carebot.sync();
    },
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
carebot acks a verified click in front of Bolt and starts the claim, its database work and the card update
once the burst of requests pauses (at most 250 ms later). Baseline: a bare Bolt app (HTTPReceiver, one
action listener that only acks), same clicks.

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

Ratio p99 carebot / bare Bolt: ${ratio(carebotResult.p99 / boltResult.p99)}.
Targets: p99 well under Slack's 3 s: ${met(carebotResult.p99 < 1000)}; p99 under 100 ms: ${met(carebotResult.p99 < 100)} (${ms(carebotResult.p99)}).`,
);
