/**
 * Complaint to Slack: complaints at BENCH_RATE per second (default 20) for BENCH_SECONDS (default
 * 30) to a carebot process with its real, kick-driven sync; for each, the time from the webhook's
 * 202 arriving at the sender to the fake Slack receiving the card's chat.postMessage.
 * Baseline: the same chat.postMessage sent straight to the fake Slack by the benchmark itself.
 * The database holds BENCH_HISTORY cases first (default 1,000,000, with their messages, events,
 * replies and threads: bench/support/history.ts), as a team's does after a year; 0 starts empty.
 *
 *   npx tsx bench/complaint-to-slack.ts        BENCH_SECONDS=10 BENCH_RATE=20 BENCH_HISTORY=0
 */
import { webApi } from '@slack/bolt';
import postgres from 'postgres';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { openDatabase } from '../src/db/client.js';
import { createDatabase } from '../test/reliability/support/database.js';
import { BOT_TOKEN, CARE_CHANNEL, carebotEnv } from '../test/reliability/support/env.js';
import { startCarebotProcess } from '../test/reliability/support/process.js';
import { complaintLatency, waitForQuietStart } from './support/complaint-latency.js';
import { seedHistory } from './support/history.js';
import { envNumber, machine, met, ms, num, ratio, table, writeSection } from './support/report.js';
import { paced, percentile, sleep } from './support/stats.js';

const SECONDS = envNumber('BENCH_SECONDS', 30);
const RATE = envNumber('BENCH_RATE', 20);
const COUNT = Math.round(SECONDS * RATE);
const HISTORY = envNumber('BENCH_HISTORY', 1_000_000);

const slack = await startFakeSlack();
const scratch = await createDatabase('carebot_bench');
if (HISTORY > 0) {
  const migrated = await openDatabase({ url: scratch.url });
  await migrated.migrate();
  await migrated.close();
  const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
  const started = performance.now();
  console.log(`seeding ${num(HISTORY)} cases of history…`);
  await seedHistory(sql, HISTORY);
  // What was in flight at the end of the history is already in Slack: only new cards are timed.
  await sql.unsafe(
    'update cases set card_posted_version = card_version where card_posted_version < card_version',
  );
  await sql.unsafe('update slack_outbox set posted_ts = $1 where posted_ts is null', ['seeded']);
  // Seeding wrote gigabytes: a checkpoint now, so PostgreSQL does not flush them during the run.
  await sql.unsafe('checkpoint');
  await sql.end();
  console.log(`  seeded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
const carebot = await startCarebotProcess(carebotEnv({ slackUrl: slack.url, databaseUrl: scratch.url }));
try {
  // The history's work in flight (SLA checks due, their reminders, replies) is done in the first
  // rounds after start, up to a few seconds of thread posts: measured is the steady state after it.
  if (HISTORY > 0) await waitForQuietStart(slack);
  console.log(`complaint → Slack: ${COUNT} complaints at ${RATE}/s…`);
  const { latencies, missing, refused } = await complaintLatency(carebot.url, slack, COUNT, RATE);

  // Baseline: the floor, one chat.postMessage from here to the fake Slack at the same pace.
  const client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  const direct: number[] = [];
  await paced(Math.min(COUNT, 200), 1000 / RATE, () => {
    const started = performance.now();
    void client.chat
      .postMessage({ channel: CARE_CHANNEL, text: 'baseline' })
      .then(() => direct.push(performance.now() - started));
  });
  await sleep(500);

  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const base50 = percentile(direct, 50);
  const base99 = percentile(direct, 99);
  console.log(
    `  202 → chat.postMessage: p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(Math.max(...latencies))} over ${num(latencies.length)} cases ` +
      `(${missing} not posted, ${refused} refused); direct chat.postMessage p50 ${ms(base50)}, p99 ${ms(base99)}; ` +
      `ratio p50 ${ratio(p50 / base50)}`,
  );
  writeSection(
    'complaint-to-slack',
    `### Complaint to Slack (bench/complaint-to-slack.ts)

${await machine()}
${num(COUNT)} complaints at ${RATE}/s on PostgreSQL holding ${HISTORY ? `a year of history (${num(HISTORY)} cases with their messages, events, replies and threads)` : 'nothing before'}, carebot with its real schedules (the webhook kicks the
sync). Measured: from the 202 arriving at the sender to the fake Slack receiving the card's
chat.postMessage (both clocks are the benchmark's). Baseline: a chat.postMessage sent straight to the
fake Slack from the benchmark, at the same pace (the floor of one Slack call on this machine).

${table(
  ['', 'p50', 'p99', 'max', 'ratio p50 to baseline'],
  [
    ['202 → chat.postMessage', ms(p50), ms(p99), ms(Math.max(...latencies)), ratio(p50 / base50)],
    ['baseline: direct chat.postMessage', ms(base50), ms(base99), ms(Math.max(...direct)), '1.00 ×'],
  ],
)}

${num(latencies.length)} cases posted, ${missing} not posted within 30 s, ${refused} complaints refused.
Targets: p50 under 50 ms: ${met(p50 < 50)}; p99 under 250 ms: ${met(p99 < 250)}.`,
  );
} finally {
  await carebot.stop();
  await scratch.drop();
  await slack.close();
}
