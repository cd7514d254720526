/**
 * Bigger than one box (issue #20 part 3): the same measurements on a history of 1 M and of 10 M
 * cases, each with its messages, events, replies, threads and escalations (bench/support/history.ts),
 * at the same daily volume (10 M cases are ten years of a team that gets 1 M a year) and with the
 * same work in flight (100 SLA checks due, 200 cards to post, 2,000 open cases). Goal: no figure at
 * 10 M more than 2 × its 1 M figure. Per history:
 *   - one SLA sweep (`SlaSweep.runOnce()` over the 100 due cases);
 *   - `/care-stats 30d` (`careStats`, median of 3 after a warm-up);
 *   - one `/metrics` scrape (`Metrics.scrape()`, median of 5 after a warm-up);
 *   - complaint → Slack: a carebot process on that database, 200 complaints at 20/s after its
 *     start-up work, each from its 202 to the card's chat.postMessage at the fake Slack;
 *   - ingest: carebot's storing code called directly, 16 at a time, for BENCH_SECONDS (default 10).
 *
 *   npx tsx bench/scale.ts       BENCH_SCALES=1000000,10000000 BENCH_REUSE=1 (keep and reuse the seeded databases)
 *   BENCH_REUSE=1 BENCH_SEED_ONLY=1 npx tsx bench/scale.ts    (only seed them, to measure later)
 */
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { systemClock } from '../src/care/clock.js';
import { slaSettings } from '../src/care/sla.js';
import { careStats } from '../src/care/stats.js';
import { statsPeriod } from '../src/care/stats-period.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { SlaSweep } from '../src/jobs/sla-sweep.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/metrics.js';
import { SERVER_URL } from '../test/reliability/support/database.js';
import {
  BOT_TOKEN,
  CARE_CHANNEL,
  carebotEnv,
  SIGNING_SECRET,
  writeConfig,
} from '../test/reliability/support/env.js';
import { startCarebotProcess } from '../test/reliability/support/process.js';
import { complaintLatency, waitForQuietStart } from './support/complaint-latency.js';
import { seedHistory } from './support/history.js';
import { storeDirectly } from './support/ingest-work.js';
import { envNumber, machine, met, ms, num, ratio, table, writeSection } from './support/report.js';
import { median, percentile } from './support/stats.js';

const SCALES = (process.env.BENCH_SCALES ?? '1000000,10000000').split(',').map(Number);
const SECONDS = envNumber('BENCH_SECONDS', 10);
const REUSE = Boolean(process.env.BENCH_REUSE);
const PER_YEAR = 1_000_000;

const config = loadConfig({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  CARE_CHANNEL_ID: CARE_CHANNEL,
  CARE_CONFIG: writeConfig(''),
});
const silent = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));

interface Figures {
  cases: number;
  seedS: number | null;
  sweepMs: number;
  swept: number;
  statsMs: number;
  scrapeMs: number;
  toSlackP50: number;
  toSlackP99: number;
  notPosted: number;
  ingestPerS: number;
}

async function admin<T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The seeded database of `cases` cases: reused when BENCH_REUSE is set and it was seeded fully. */
async function history(cases: number): Promise<{ url: string; seedS: number | null; drop(): Promise<void> }> {
  const name = `carebot_scale_${cases}`;
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const drop = async () => {
    await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
  };
  const seeded = REUSE
    ? await admin(async (sql) => {
        const [row] = await sql`select 1 from pg_database where datname = ${name}`;
        if (!row) return false;
        const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
        try {
          const [done] = await db`select to_regclass('bench_seeded') is not null as ok`;
          if (!done?.ok) return false;
          const [row] = await db.unsafe('select seconds from bench_seeded');
          return { seedS: row?.seconds === undefined ? null : Number(row.seconds) };
        } finally {
          await db.end({ timeout: 5 });
        }
      })
    : false;
  if (seeded) {
    console.log(`reusing ${name}`);
    return { url: url.toString(), seedS: seeded.seedS, drop: async () => {} };
  }
  await drop();
  await admin((sql) => sql.unsafe(`create database ${name}`));
  const handle = await openDatabase({ url: url.toString() });
  await handle.migrate();
  await handle.close();
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const started = performance.now();
  console.log(`seeding ${num(cases)} cases over ${num((365 * cases) / PER_YEAR)} days…`);
  const counts = await seedHistory(sql, cases, new Date(), Math.round((365 * cases) / PER_YEAR));
  const seedS = (performance.now() - started) / 1000;
  await sql.unsafe('create table bench_seeded (seconds float8)');
  await sql.unsafe('insert into bench_seeded values ($1)', [seedS]);
  await sql.unsafe('checkpoint');
  await sql.end({ timeout: 5 });
  console.log(
    `  ${num(counts.cases)} cases, ${num(counts.messages)} messages, ${num(counts.events)} events in ${seedS.toFixed(0)} s`,
  );
  return { url: url.toString(), seedS, drop: REUSE ? async () => {} : drop };
}

async function measure(cases: number): Promise<Figures> {
  const db = await history(cases);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const handle = await openDatabase({ url: db.url });
  try {
    // A kept history may predate later migrations: carebot would run them at start.
    await handle.migrate();
    // The work in flight as seeded: the 100 SLA checks due again (a reused database swept them
    // before), the cards and thread posts already in Slack so only new cards are timed.
    const recent = Math.min(cases, 1_000_000);
    const dueEvery = 500 * Math.max(1, Math.floor(recent / 50_000));
    await sql.unsafe(
      `update cases set sla_next_check_at = now() - interval '1 minute'
       where status = 'open' and id > ${cases - recent} and id <= ${cases} and id % ${dueEvery} = 0`,
    );
    await sql.unsafe(
      'update cases set card_posted_version = card_version where card_posted_version < card_version',
    );
    await sql.unsafe("update slack_outbox set posted_ts = 'seeded' where posted_ts is null");

    const sweep = new SlaSweep({
      db: handle.db,
      clock: systemClock,
      logger: silent,
      settings: slaSettings(config),
      careTeamUsergroup: null,
      managersUsergroup: null,
      teams: [],
      breachEscalateTo: null,
      onChange: () => {},
      schedule: '* * * * *',
      batchSize: 100,
    });
    let started = performance.now();
    const swept = await sweep.runOnce();
    const sweepMs = performance.now() - started;
    console.log(`  one SLA sweep: ${ms(sweepMs)} for ${swept} due cases`);

    const now = new Date();
    const request = {
      period: statsPeriod({ kind: '30d' }, now, 'UTC'),
      filter: {},
      now,
      businessHours: config.businessHours,
    };
    await careStats(handle.db, request);
    const statsTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      started = performance.now();
      await careStats(handle.db, request);
      statsTimes.push(performance.now() - started);
    }
    const statsMs = median(statsTimes);
    console.log(`  /care-stats 30d: ${ms(statsMs)}`);

    const metrics = new Metrics(handle.db, silent);
    await metrics.scrape();
    const scrapeTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await metrics.scrape();
      scrapeTimes.push(performance.now() - started);
    }
    const scrapeMs = median(scrapeTimes);
    console.log(`  /metrics scrape: ${ms(scrapeMs)}`);

    const slack = await startFakeSlack();
    const carebot = await startCarebotProcess(carebotEnv({ slackUrl: slack.url, databaseUrl: db.url }));
    let latency: Awaited<ReturnType<typeof complaintLatency>>;
    try {
      await waitForQuietStart(slack);
      latency = await complaintLatency(carebot.url, slack, 200, 20, `scale-${Date.now()}`);
    } finally {
      await carebot.stop();
      await slack.close();
    }
    const toSlackP50 = percentile(latency.latencies, 50);
    const toSlackP99 = percentile(latency.latencies, 99);
    console.log(
      `  complaint → Slack: p50 ${ms(toSlackP50)}, p99 ${ms(toSlackP99)} (${latency.missing} not posted)`,
    );

    const ingestPerS = await storeDirectly(handle.db, 16, SECONDS, `scale-${Date.now()}-`);
    console.log(`  ingest (storing called directly): ${num(ingestPerS)}/s`);
    // What the run added is in Slack as far as a later run is concerned.
    await sql.unsafe(
      'update cases set card_posted_version = card_version where card_posted_version < card_version',
    );
    return {
      cases,
      seedS: db.seedS,
      sweepMs,
      swept,
      statsMs,
      scrapeMs,
      toSlackP50,
      toSlackP99,
      notPosted: latency.missing + latency.refused,
      ingestPerS,
    };
  } finally {
    await handle.close();
    await sql.end({ timeout: 5 });
    await db.drop();
  }
}

if (process.env.BENCH_SEED_ONLY) {
  // Seed (and keep) the histories now, measure later on a quiet machine with BENCH_REUSE=1.
  for (const cases of SCALES) await history(cases);
  process.exit(0);
}

const runs: Figures[] = [];
for (const cases of SCALES) {
  console.log(`history of ${num(cases)} cases:`);
  runs.push(await measure(cases));
}

const [small, ...bigger] = runs as [Figures, ...Figures[]];
const rows: Array<[string, (f: Figures) => number, (n: number) => string, boolean]> = [
  // [what, figure, format, higher is better]
  ['one SLA sweep (100 due)', (f) => f.sweepMs, ms, false],
  ['/care-stats 30d', (f) => f.statsMs, ms, false],
  ['/metrics scrape', (f) => f.scrapeMs, ms, false],
  ['complaint → Slack p50', (f) => f.toSlackP50, ms, false],
  ['complaint → Slack p99', (f) => f.toSlackP99, ms, false],
  ['ingest (storing, complaints/s)', (f) => f.ingestPerS, (n) => `${num(n)}/s`, true],
];
// The cost ratio: time at the larger history over time at 1 M (for a rate: 1 M's over the larger's).
const cost = (f: Figures, [, figure, , higher]: (typeof rows)[number]) =>
  higher ? figure(small) / figure(f) : figure(f) / figure(small);
const worst = (f: Figures) => Math.max(...rows.map((r) => cost(f, r)));

writeSection(
  'scale',
  `### Bigger than one box: 1 M and 10 M cases (bench/scale.ts)

${await machine()}
Histories of ${runs.map((f) => num(f.cases)).join(' and ')} cases on PostgreSQL, each with its
messages, events, replies, Slack threads and escalations (bench/support/history.ts), at the same daily
volume (${num(PER_YEAR)} cases a year: 10 M cases are ten years of one team) and the same work in flight (100
SLA checks due, 2,000 open cases). Seeded in ${runs.map((f) => (f.seedS === null ? '(a kept database)' : `${f.seedS.toFixed(0)} s`)).join(' and ')}${REUSE ? ' (kept databases are reused: `BENCH_REUSE=1`)' : ''}.
Complaint → Slack: a carebot process on that database, 200 complaints at 20/s once its start-up work
is done. Ingest: carebot's storing code called directly, 16 at a time, ${SECONDS} s. "Cost" is the larger
history's figure against the 1 M one (for ingest, 1 M's rate over the larger's).

${table(
  ['', ...runs.map((f) => `${num(f.cases)} cases`), ...bigger.map((f) => `cost at ${num(f.cases)}`)],
  rows.map((r) => [r[0], ...runs.map((f) => r[2](r[1](f))), ...bigger.map((f) => ratio(cost(f, r)))]),
)}

Cards not posted within 30 s: ${runs.map((f) => `${num(f.cases)}: ${f.notPosted}`).join(', ')}.
Goal, no figure more than 2 × its 1 M figure: ${bigger.map((f) => `${num(f.cases)}: ${met(worst(f) <= 2)} (worst ${ratio(worst(f))})`).join('; ')}.`,
);
