/**
 * Burst: BENCH_BURST complaints (default 1,000: 250 conversations of 4 messages) in 10 s, while the
 * Slack in front of carebot allows about one chat.postMessage per second per channel (429 with
 * Retry-After past that, as Slack does). For BENCH_BURST_WINDOW seconds (default 90) the posted rate
 * is measured against the allowed one; then the limit is lifted so the backlog drains in seconds
 * and exactly-once and per-conversation order are checked on all of it.
 * (At one post a second the full burst needs ~17 minutes to drain; BENCH_BURST_WINDOW=1100 does that.)
 * The burst runs against 1, 2 and 4 carebot processes on one PostgreSQL database (BENCH_INSTANCES),
 * complaints spread over them in turn, as behind a load balancer: the instances share the posting.
 *
 *   npx tsx bench/burst.ts        BENCH_BURST=400 BENCH_BURST_WINDOW=30 BENCH_INSTANCES=1,2
 */

import { startFakeSlack } from '../emulators/slack/web-api.js';
import { postComplaint } from '../test/reliability/support/complaints.js';
import { createDatabase } from '../test/reliability/support/database.js';
import { carebotEnv } from '../test/reliability/support/env.js';
import { startFaultProxy } from '../test/reliability/support/fault-proxy.js';
import { startCarebotProcess } from '../test/reliability/support/process.js';
import { cardPostsByCase, postsMentioning } from '../test/reliability/support/slack-posts.js';
import { envNumber, machine, met, num, ratio, table, writeSection } from './support/report.js';
import { paced, sleep } from './support/stats.js';

const TOTAL = envNumber('BENCH_BURST', 1000);
const PER_CONVERSATION = 4;
const CONVERSATIONS = Math.ceil(TOTAL / PER_CONVERSATION);
const WINDOW_S = envNumber('BENCH_BURST_WINDOW', 90);
const ALLOWED_PER_S = 1;
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2,4').split(',').map(Number);

interface BurstFigures {
  instances: number;
  statuses: Record<string, number>;
  ingestSeconds: number;
  posted: number;
  postedRate: number;
  limited: number;
  drainSeconds: number;
  historyCalls: number;
  lost: number;
  doubled: number;
  threads: number;
  outOfOrder: number;
}

async function burst(instances: number): Promise<BurstFigures> {
  const slack = await startFakeSlack();
  const proxy = await startFaultProxy(slack.url);
  const scratch = await createDatabase('carebot_bench');
  const carebots: Awaited<ReturnType<typeof startCarebotProcess>>[] = [];
  try {
    // One after another: the first migrates the database, the others find it migrated.
    for (let n = 0; n < instances; n++)
      carebots.push(await startCarebotProcess(carebotEnv({ slackUrl: proxy.url, databaseUrl: scratch.url })));
    proxy.limitPostsPerChannel(ALLOWED_PER_S);
    console.log(
      `burst on ${instances} instance(s): ${TOTAL} complaints in 10 s, Slack allowing ${ALLOWED_PER_S} post/s per channel…`,
    );
    const ids: string[] = [];
    const statuses = new Map<number, number>();
    const pending: Array<Promise<void>> = [];
    const started = Date.now();
    await paced(TOTAL, 10_000 / TOTAL, (i) => {
      // Conversation-major: each conversation's k-th message goes out a quarter of the burst after its (k-1)-th.
      const k = Math.floor(i / CONVERSATIONS);
      const c = i % CONVERSATIONS;
      const id = `b${k}-c${c}`;
      ids.push(id);
      const carebot = carebots[i % carebots.length] as (typeof carebots)[number];
      pending.push(
        postComplaint(carebot.url, {
          source: 'forum',
          id,
          conversationId: `conv-${c}`,
          author: { id: `u${c}`, name: 'Jane Doe' },
          text: `Still waiting [${id}]`,
        }).then((a) => {
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        }),
      );
    });
    await Promise.all(pending);
    const ingestSeconds = (Date.now() - started) / 1000;
    const windowEnd = started + WINDOW_S * 1000;
    await sleep(Math.max(0, windowEnd - Date.now()));
    const okPosts = () => slack.calls.filter((c) => c.method === 'chat.postMessage' && c.ok);
    const inWindow = okPosts().filter((c) => c.at <= windowEnd);
    const firstPost = inWindow[0]?.at ?? started;
    const postedRate = inWindow.length / ((windowEnd - firstPost) / 1000);
    const limited = proxy.stats.limited;

    // Drain with the limit lifted, then check everything.
    proxy.limitPostsPerChannel(undefined);
    const drainStarted = Date.now();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !ids.every((id) => postsMentioning(slack.calls, `[${id}]`).length > 0))
      await sleep(250);
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    await sleep(3000);
    const counts = ids.map((id) => postsMentioning(slack.calls, `[${id}]`).length);
    const cards = cardPostsByCase(slack.calls);
    let outOfOrder = 0;
    for (let c = 0; c < CONVERSATIONS; c++) {
      const at = Array.from(
        { length: PER_CONVERSATION },
        (_, k) => postsMentioning(slack.calls, `[b${k}-c${c}]`)[0]?.at ?? 0,
      );
      if (at.some((t, k) => k > 0 && t < (at[k - 1] ?? 0))) outOfOrder += 1;
    }
    const f: BurstFigures = {
      instances,
      statuses: Object.fromEntries(statuses),
      ingestSeconds,
      posted: inWindow.length,
      postedRate,
      limited,
      drainSeconds,
      // Cases held back by a 429 count as interrupted attempts, which look for an earlier card first.
      historyCalls: slack.callsTo('conversations.history').length,
      lost: counts.filter((n) => n === 0).length,
      doubled: counts.filter((n) => n > 1).length,
      threads: cards.size,
      outOfOrder,
    };
    console.log(
      `  accepted ${JSON.stringify(f.statuses)} in ${ingestSeconds.toFixed(1)} s; in the ${WINDOW_S}-s window ` +
        `${f.posted} posts = ${postedRate.toFixed(2)}/s against ${ALLOWED_PER_S}/s allowed (${ratio(postedRate / ALLOWED_PER_S)}), ${limited} answered 429; ` +
        `drained the rest in ${drainSeconds.toFixed(1)} s; lost ${f.lost}, posted twice ${f.doubled}, threads ${f.threads}/${CONVERSATIONS}, ` +
        `conversations out of order ${outOfOrder}, conversations.history calls ${f.historyCalls}`,
    );
    return f;
  } finally {
    await Promise.all(carebots.map((c) => c.stop()));
    await scratch.drop();
    await proxy.close();
    await slack.close();
  }
}

const runs: BurstFigures[] = [];
for (const n of INSTANCES) runs.push(await burst(n));
const ok = (f: BurstFigures) => f.lost === 0 && f.doubled === 0;
writeSection(
  'burst',
  `### Burst under Slack's rate limit (bench/burst.ts)

${await machine()}
${num(TOTAL)} complaints (${CONVERSATIONS} conversations × ${PER_CONVERSATION} messages) sent in 10 s to carebot on PostgreSQL,
with its real schedules, run against ${INSTANCES.join(', ')} carebot processes on one database (complaints
spread over them in turn). A proxy in front of the fake Slack allows ${ALLOWED_PER_S} chat.postMessage per second per
channel (a one-token bucket) and answers 429 with Retry-After (whole seconds, as Slack) past that.
The posted rate is measured for ${WINDOW_S} s from the start of the burst, from the first post on;
then the limit is lifted, the backlog drains, and every message is checked. (Draining ${num(TOTAL)} posts at
one a second takes about ${Math.ceil(TOTAL / 60)} minutes, too long for this suite: \`BENCH_BURST_WINDOW=1100\` does it.)

${table(
  ['', ...runs.map((f) => `${f.instances} instance${f.instances > 1 ? 's' : ''}`)],
  [
    ['complaints accepted (HTTP status: count)', ...runs.map((f) => JSON.stringify(f.statuses))],
    [`posted in the window (${WINDOW_S} s)`, ...runs.map((f) => num(f.posted))],
    [
      'posted rate / allowed rate',
      ...runs.map(
        (f) => `${f.postedRate.toFixed(2)}/s / ${ALLOWED_PER_S}/s = ${ratio(f.postedRate / ALLOWED_PER_S)}`,
      ),
    ],
    ['calls answered 429 in the window', ...runs.map((f) => num(f.limited))],
    ['drain after the limit was lifted', ...runs.map((f) => `${f.drainSeconds.toFixed(1)} s`)],
    ['conversations.history calls (looking for an earlier card)', ...runs.map((f) => num(f.historyCalls))],
    ['messages lost / posted twice', ...runs.map((f) => `${f.lost} / ${f.doubled}`)],
    ['case threads / conversations', ...runs.map((f) => `${f.threads} / ${CONVERSATIONS}`)],
    ['conversations out of order', ...runs.map((f) => num(f.outOfOrder))],
  ],
)}

Targets, for each number of instances: every message posted exactly once: ${met(runs.every(ok))}; in arrival order per conversation:
${met(runs.every((f) => f.outOfOrder === 0))}; posted rate at least 90 % of the allowed rate: ${runs
    .map(
      (f) =>
        `${f.instances}: ${met(f.postedRate >= 0.9 * ALLOWED_PER_S)} (${((f.postedRate / ALLOWED_PER_S) * 100).toFixed(0)} %)`,
    )
    .join('; ')}.`,
);
