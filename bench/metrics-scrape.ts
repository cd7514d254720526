/**
 * What one `GET /metrics` scrape costs over a large history, on PostgreSQL.
 *
 *   npx tsx bench/metrics-scrape.ts                      # 1,000,000 cases
 *   BENCH_CASES=100000 npx tsx bench/metrics-scrape.ts   # fewer, for a quick look
 *
 * Seeds BENCH_CASES cases (1 in 500 open, as a busy team has a few thousand at most), their
 * outbox rows and replies, into a fresh database on TEST_DATABASE_URL's server; prints the plan
 * of each database gauge's query (EXPLAIN ANALYZE) and the median time of a whole scrape, with
 * and without `cases_open_idx`. The database is dropped afterwards (BENCH_KEEP=1 keeps it).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { Metrics } from '../src/metrics.js';

const CASES = Number(process.env.BENCH_CASES ?? 1_000_000);
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = 9;

/** The gauge queries as care/gauges.ts sends them. */
const QUERIES = {
  'cases_open + cases_unclaimed': `select priority, count(*) as open, count(*) filter (where owner_id is null) as unclaimed
     from cases where status = 'open' group by priority`,
  slack_pending: `select (select count(*) from slack_outbox where posted_ts is null)
     + (select count(*) from slack_notices where posted_ts is null)
     + (select count(*) from cases where card_posted_version < card_version) as pending`,
  replies_pending: `select count(*) as pending from replies where status in ('pending', 'sending')`,
  source_paused: 'select source_key, status from source_cursors order by source_key',
};

async function seed(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(
    `insert into cases (source_key, platform, conversation_id, channel_id, status, owner_id, priority, opened_at,
       last_customer_message_at, resolved_at, created_at, updated_at, card_version, card_posted_version)
     select 'webhook:forum', 'webhook', 'conv-' || g, 'C0CARE0001',
       case when g % 500 = 0 then 'open' else 'resolved' end,
       case when g % 1000 = 0 then null else 'U0AGENT' || (g % 20) end,
       (array['P1', 'P2', 'P3'])[1 + g % 3],
       now() - (${CASES} - g) * interval '30 seconds', now(), case when g % 500 = 0 then null else now() end,
       now(), now(), case when g % 5000 = 0 then 3 else 2 end, 2
     from generate_series(1, ${CASES}) g`,
  );
  // Every case's thread posts are in Slack but a few; replies sent but the last few dozen.
  await sql.unsafe(
    `insert into slack_outbox (case_id, key, kind, ref_id, created_at, posted_ts, posted_at)
     select id, 'cm:' || id, 'customer_message', id, now(), case when id % 10000 = 0 then null else 'ts' || id end, now()
     from cases`,
  );
  await sql.unsafe(
    `insert into replies (case_id, status, author_id, text, slack_channel, slack_ts, position, send_at, sent_at,
       created_at, updated_at)
     select id, case when id % 20000 = 0 then 'pending' else 'sent' end, 'U0AGENT1', 'Sorry about that.',
       'C0CARE0001', 'r' || id, 1, now(), now(), now(), now()
     from cases`,
  );
  await sql.unsafe(
    `insert into source_cursors (source_key, status, updated_at)
     values ('x:default', 'active', now()), ('reddit:default', 'paused', now()), ('rss:blog', 'active', now())`,
  );
  await sql.unsafe('vacuum analyze');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function scrapeMs(metrics: Metrics): Promise<number> {
  await metrics.scrape();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await metrics.scrape();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function plans(sql: postgres.Sql): Promise<void> {
  for (const [name, query] of Object.entries(QUERIES)) {
    const rows = await sql.unsafe(`explain (analyze, buffers, costs off) ${query}`);
    console.log(`\n-- ${name}`);
    for (const r of rows) console.log(String(r['QUERY PLAN']));
  }
}

async function main(): Promise<void> {
  const name = `carebot_bench_metrics_${randomBytes(4).toString('hex')}`;
  const admin = postgres(SERVER, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString() });
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await handle.migrate();
    const started = performance.now();
    await seed(sql);
    console.log(
      `seeded ${CASES.toLocaleString('en')} cases in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const metrics = new Metrics(handle.db, createLogger('silent'));
    await plans(sql);
    const withIndex = await scrapeMs(metrics);
    await sql.unsafe('drop index cases_open_idx');
    await sql.unsafe('analyze cases');
    console.log('\n-- cases_open + cases_unclaimed without cases_open_idx');
    const rows = await sql.unsafe(
      `explain (analyze, buffers, costs off) ${QUERIES['cases_open + cases_unclaimed']}`,
    );
    for (const r of rows) console.log(String(r['QUERY PLAN']));
    const withoutIndex = await scrapeMs(metrics);
    console.log(
      `\none scrape over ${CASES.toLocaleString('en')} cases (median of ${RUNS}): ${withIndex.toFixed(1)} ms; ` +
        `without cases_open_idx: ${withoutIndex.toFixed(1)} ms`,
    );
  } finally {
    await sql.end();
    await handle.close();
    if (!process.env.BENCH_KEEP) await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
