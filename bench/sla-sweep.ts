/**
 * SLA sweep: BENCH_CASES cases (default 1,000,000), a tenth of them open, BENCH_DUE of those
 * (default 1,000) due for a check, seeded with generate_series on PostgreSQL. Timed: the sweep's
 * due query (the lease UPDATE of SlaSweep.runOnce, rolled back and repeated), one real
 * `slaSweep.runOnce()` (a batch of 100, reminders written), and sweeping every due case. Then the
 * same on a tenth of the cases with the same due count: the cost follows the due cases.
 * Baseline: the due query with index scans turned off (a sequential scan of every case).
 *
 *   npx tsx bench/sla-sweep.ts        BENCH_CASES=200000
 */
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { systemClock } from '../src/care/clock.js';
import { slaSettings } from '../src/care/sla.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { SlaSweep } from '../src/jobs/sla-sweep.js';
import { createLogger } from '../src/logger.js';
import { createDatabase } from '../test/reliability/support/database.js';
import { BOT_TOKEN, CARE_CHANNEL, SIGNING_SECRET, writeConfig } from '../test/reliability/support/env.js';
import { envNumber, machine, met, ms, num, ratio, table, writeSection } from './support/report.js';
import { median } from './support/stats.js';

const TOTAL = envNumber('BENCH_CASES', 1_000_000);
const DUE = envNumber('BENCH_DUE', 1000);
const BATCH = 100;

const config = loadConfig({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  CARE_CHANNEL_ID: CARE_CHANNEL,
  CARE_CONFIG: writeConfig('business_hours: always\n'),
});

const DUE_QUERY = (now: Date, lease: Date) =>
  [
    `update cases set sla_next_check_at = $1
     where id in (select id from cases where sla_next_check_at <= $2
                  order by sla_next_check_at limit ${BATCH} for update skip locked)
   returning id`,
    [lease.toISOString(), now.toISOString()],
  ] as const;

interface SweepFigures {
  total: number;
  open: number;
  due: number;
  seedSeconds: number;
  dueQuery: number;
  seqScan: number;
  runOnce: number;
  allDue: number;
  swept: number;
  idle: number;
}

async function scenario(total: number): Promise<SweepFigures> {
  const scratch = await createDatabase('carebot_bench');
  const handle = await openDatabase({ url: scratch.url });
  await handle.migrate();
  const sql = postgres(scratch.url, { max: 2, onnotice: () => {} });
  try {
    const open = Math.floor(total / 10);
    const every = Math.max(1, Math.floor(open / DUE));
    const seedStarted = Date.now();
    // Every tenth case is open; every `every`-th open case is due (checks up to an hour late),
    // the others are checked later today; resolved cases have no check.
    await sql.unsafe(`
      insert into cases (source_key, platform, conversation_id, status, channel_id, opened_at,
        last_customer_message_at, resolved_at, first_response_due_at, resolution_due_at,
        sla_next_check_at, card_version, card_posted_version, created_at, updated_at)
      select 'webhook:forum', 'webhook', 'c' || i,
        case when i % 10 = 0 then 'open' else 'resolved' end, '${CARE_CHANNEL}',
        now() - (i % 500) * interval '1 hour', now() - (i % 500) * interval '1 hour',
        case when i % 10 = 0 then null else now() - (i % 400) * interval '1 hour' end,
        now() + interval '30 minutes', now() + interval '20 hours',
        case when i % 10 <> 0 then null
             when (i / 10) % ${every} = 0 and (i / 10) / ${every} < ${DUE} then now() - (i % 60) * interval '1 minute'
             else now() + interval '1 hour' + (i % 600) * interval '1 minute' end,
        1, 1, now(), now()
      from generate_series(1, ${total}) as i`);
    await sql.unsafe('vacuum analyze cases');
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const [{ due } = { due: 0 }] = await sql<
      { due: number }[]
    >`select count(*)::int as due from cases where sla_next_check_at <= now()`;

    const timeDueQuery = async (seq: boolean) => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        await sql
          .begin(async (tx) => {
            if (seq) await tx.unsafe('set local enable_indexscan = off; set local enable_bitmapscan = off');
            const [text, params] = DUE_QUERY(new Date(), new Date(Date.now() + 60_000));
            const started = performance.now();
            await tx.unsafe(text, [...params]);
            times.push(performance.now() - started);
            throw new Rollback();
          })
          .catch((err) => {
            if (!(err instanceof Rollback)) throw err;
          });
      }
      return median(times.slice(1));
    };
    const dueQuery = await timeDueQuery(false);
    const seqScan = await timeDueQuery(true);

    const sink = new Writable({ write: (_c, _e, done) => done() });
    const sweep = new SlaSweep({
      db: handle.db,
      clock: systemClock,
      logger: createLogger('silent', sink),
      settings: slaSettings(config),
      careTeamUsergroup: null,
      managersUsergroup: null,
      teams: [],
      breachEscalateTo: null,
      onChange: () => {},
      schedule: '* * * * *',
      batchSize: BATCH,
    });
    let started = performance.now();
    let swept = await sweep.runOnce();
    const runOnce = performance.now() - started;
    started = performance.now();
    for (let n = swept; n > 0; ) {
      n = await sweep.runOnce();
      swept += n;
    }
    const allDue = runOnce + (performance.now() - started);
    // Nothing due any more: what every check costs between deadlines.
    const idleTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await sweep.runOnce();
      idleTimes.push(performance.now() - started);
    }
    return {
      total,
      open,
      due,
      seedSeconds,
      dueQuery,
      seqScan,
      runOnce,
      allDue,
      swept,
      idle: median(idleTimes),
    };
  } finally {
    await sql.end({ timeout: 5 });
    await handle.close();
    await scratch.drop();
  }
}

class Rollback extends Error {}

const runs: SweepFigures[] = [];
for (const total of [TOTAL, Math.floor(TOTAL / 10)]) {
  console.log(`SLA sweep: seeding ${num(total)} cases…`);
  const f = await scenario(total);
  runs.push(f);
  console.log(
    `  ${num(f.total)} cases, ${num(f.open)} open, ${num(f.due)} due (seeded in ${f.seedSeconds.toFixed(0)} s): ` +
      `due query ${ms(f.dueQuery)} (sequential scan ${ms(f.seqScan)}, ratio ${ratio(f.dueQuery / f.seqScan)}); ` +
      `one runOnce (${BATCH} cases) ${ms(f.runOnce)}; all ${num(f.swept)} due cases ${ms(f.allDue)} ` +
      `(${ms(f.allDue / f.swept)} a case); runOnce with nothing due ${ms(f.idle)}`,
  );
}
const [big, small] = runs as [SweepFigures, SweepFigures];
writeSection(
  'sla-sweep',
  `### SLA sweep (bench/sla-sweep.ts)

${await machine()}
Cases seeded with generate_series (a tenth open, ${num(DUE)} of those due; business hours "always", so due cases
get reminders), then \`vacuum analyze\`. "Due query": the lease UPDATE that starts \`SlaSweep.runOnce()\`
(batch ${BATCH}; median of 6, rolled back each time). "One sweep": a real \`runOnce()\` (lease, plan, write
reminders and outbox rows for ${BATCH} cases). Baseline: the same due query with index scans off, i.e. reading
every case.

${table(
  [
    'cases (open, due)',
    'due query',
    'baseline: sequential scan',
    'ratio',
    `one sweep (${BATCH} due cases)`,
    'every due case',
    'a case',
    'sweep, nothing due',
  ],
  runs.map((f) => [
    `${num(f.total)} (${num(f.open)}, ${num(f.due)})`,
    ms(f.dueQuery),
    ms(f.seqScan),
    ratio(f.dueQuery / f.seqScan),
    ms(f.runOnce),
    `${ms(f.allDue)} for ${num(f.swept)}`,
    ms(f.allDue / f.swept),
    ms(f.idle),
  ]),
)}

Ten times the cases with the same due count: due query ${ratio(big.dueQuery / small.dueQuery)}, one sweep ${ratio(big.runOnce / small.runOnce)}:
the cost follows the due cases, not the total. Target, one sweep under 100 ms with ${num(big.total)} cases:
with ${BATCH} cases due ${met(big.runOnce < 100)} (${ms(big.runOnce)}: about ${ms(big.allDue / big.swept)} of per-case work, a transaction
each; the due query alone is ${ms(big.dueQuery)}); with nothing due ${met(big.idle < 100)} (${ms(big.idle)}). At ${ms(big.allDue / big.swept)} a
case, a sweep stays under 100 ms up to about ${Math.floor(100 / (big.allDue / big.swept))} due cases.`,
);
