/**
 * Ingest: signed generic-webhook POSTs for BENCH_SECONDS (default 30) with autocannon, against a
 * carebot process whose Slack sync is off (only storing is measured), on PostgreSQL and on PGlite.
 * Baseline: the same rows (case, message, "opened" event, one transaction each) written by a bare
 * loop of the driver alone, for BENCH_BASELINE_SECONDS (default 10).
 *
 *   npx tsx bench/ingest.ts        BENCH_SECONDS=10 BENCH_CONNECTIONS=16
 */
import { rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { openDatabase } from '../src/db/client.js';
import { createDatabase } from '../test/reliability/support/database.js';
import { carebotEnv, tempDir } from '../test/reliability/support/env.js';
import { startCarebotProcess } from '../test/reliability/support/process.js';
import { envNumber, machine, met, ms, num, ratio, table, writeSection } from './support/report.js';
import { type SignedRequest, signedPool } from './support/signed-pool.js';

const SECONDS = envNumber('BENCH_SECONDS', 30);
const BASELINE_SECONDS = envNumber('BENCH_BASELINE_SECONDS', Math.min(10, SECONDS));
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 16);

interface IngestResult {
  kind: 'PostgreSQL' | 'PGlite';
  rps: number;
  p50: number;
  p99: number;
  accepted: number;
  other: Record<string, number>;
  stored: number;
  baselineRps: number;
}

/** autocannon with a pool of distinct signed requests, one per POST. */
async function load(url: string, pool: SignedRequest[], seconds: number) {
  let next = 0;
  const statuses: Record<string, number> = {};
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}/sources/webhook`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const r = pool[next++ % pool.length] as SignedRequest;
              return { ...req, body: r.body, headers: r.headers };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
  instance?.on('response', (_client, status) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
  });
  const result = await done;
  return { result, statuses, used: next };
}

/** The rows one new complaint leaves, written in one transaction by the bare driver. */
const CASE = `insert into cases (source_key, platform, conversation_id, channel_id, opened_at,
  last_customer_message_at, created_at, updated_at) values ('webhook:forum', 'webhook', $1, 'C0CARE0001', now(), now(), now(), now()) returning id`;
const MESSAGE = `insert into messages (case_id, kind, source_key, external_id, author_id, author_name, author_handle,
  text, url, sent_at, created_at) values ($1, 'inbound', 'webhook:forum', $2, $3, 'Jane Doe', 'jane', $4, $5, now(), now())`;
const EVENT = `insert into case_events (case_id, type, actor, data, at) values ($1, 'opened', 'customer', $2, now())`;

async function postgresBaseline(seconds: number): Promise<number> {
  const scratch = await createDatabase('carebot_bench');
  const migrated = await openDatabase({ url: scratch.url });
  await migrated.migrate();
  await migrated.close();
  // The same pool size as carebot's (db/client.ts), one loop per connection.
  const sql = postgres(scratch.url, { max: 10, onnotice: () => {} });
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const id = `b${w}-${i}`;
        await sql.begin(async (tx) => {
          const [row] = await tx.unsafe(CASE, [id]);
          await tx.unsafe(MESSAGE, [
            row?.id,
            id,
            `u-${id}`,
            `My order never arrived [${id}]`,
            'https://forum.example/t/1',
          ]);
          await tx.unsafe(EVENT, [row?.id, { messageId: 1, externalId: id }]);
        });
        done += 1;
      }
    }),
  );
  await sql.end({ timeout: 5 });
  await scratch.drop();
  return done / seconds;
}

async function pgliteBaseline(seconds: number): Promise<number> {
  const dir = tempDir('carebot-bench-pglite-');
  const handle = await openDatabase({ dataDir: dir });
  await handle.migrate();
  await handle.close();
  const db = new PGlite(dir);
  let done = 0;
  const until = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < until; i++) {
    const id = `b-${i}`;
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>(CASE, [id]);
      await tx.query(MESSAGE, [
        rows[0]?.id,
        id,
        `u-${id}`,
        `My order never arrived [${id}]`,
        'https://forum.example/t/1',
      ]);
      await tx.query(EVENT, [rows[0]?.id, JSON.stringify({ messageId: 1, externalId: id })]);
    });
    done += 1;
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return done / seconds;
}

async function run(kind: IngestResult['kind']): Promise<IngestResult> {
  const slack = await startFakeSlack();
  const scratch = kind === 'PostgreSQL' ? await createDatabase('carebot_bench') : undefined;
  const dataDir = kind === 'PGlite' ? tempDir('carebot-bench-data-') : undefined;
  const carebot = await startCarebotProcess(
    carebotEnv({
      slackUrl: slack.url,
      ...(scratch ? { databaseUrl: scratch.url } : {}),
      ...(dataDir ? { dataDir } : {}),
    }),
    {
      schedule: false,
      // BENCH_CPU_PROF=dir writes a V8 CPU profile of carebot (open it in Chrome DevTools).
      ...(process.env.BENCH_CPU_PROF
        ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] }
        : {}),
    },
  );
  try {
    // A pool larger than the run can use, so every POST is a new complaint (a 202, not a duplicate).
    const pool = signedPool(Math.ceil(SECONDS * 4000) + 2000);
    const warmUp = await load(carebot.url, pool.slice(-2000), 2); // on requests the run will not reach
    const { result, statuses, used } = await load(carebot.url, pool.slice(0, -2000), SECONDS);
    if (used > pool.length - 2000)
      console.warn('the pool of signed requests ran out: some POSTs were duplicates');
    await carebot.stop();
    let stored = 0;
    if (scratch) {
      const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from messages`;
      stored = row?.n ?? 0;
      await sql.end({ timeout: 5 });
    } else if (dataDir) {
      const db = new PGlite(dataDir);
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from messages');
      stored = rows[0]?.n ?? 0;
      await db.close();
    }
    const accepted = statuses['202'] ?? 0;
    const other = Object.fromEntries(Object.entries(statuses).filter(([s]) => s !== '202'));
    const baselineRps =
      kind === 'PostgreSQL'
        ? await postgresBaseline(BASELINE_SECONDS)
        : await pgliteBaseline(BASELINE_SECONDS);
    return {
      kind,
      rps: accepted / SECONDS,
      p50: result.latency.p50,
      p99: result.latency.p99,
      accepted,
      other: {
        ...other,
        ...(result.errors ? { errors: result.errors } : {}),
        ...(result.timeouts ? { timeouts: result.timeouts } : {}),
      },
      // Every 202 of the run and of the warm-up must be a stored message.
      stored: stored - (warmUp.statuses['202'] ?? 0),
      baselineRps,
    };
  } finally {
    await carebot.kill();
    await scratch?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await slack.close();
  }
}

const results: IngestResult[] = [];
for (const kind of ['PostgreSQL', 'PGlite'] as const) {
  console.log(`ingest on ${kind}: ${SECONDS} s with ${CONNECTIONS} connections…`);
  const r = await run(kind);
  results.push(r);
  console.log(
    `  ${num(r.rps)} complaints/s (p50 ${ms(r.p50)}, p99 ${ms(r.p99)}); baseline ${num(r.baselineRps)}/s; ` +
      `ratio ${ratio(r.rps / r.baselineRps)}; ${num(r.accepted)} answered 202, ${num(r.stored)} stored; other answers ${JSON.stringify(r.other)}`,
  );
}

const pg = results.find((r) => r.kind === 'PostgreSQL') as IngestResult;
writeSection(
  'ingest',
  `### Ingest (bench/ingest.ts)

${await machine()}
Signed generic-webhook POSTs (each a new complaint, every one a distinct pre-signed request) for
${SECONDS} s with autocannon, ${CONNECTIONS} connections; carebot's Slack sync off, so only verifying,
validating and storing is measured. Baseline: the rows a new complaint leaves (case, message,
"opened" event) written in one transaction each by a bare loop of the driver (postgres.js with
carebot's 10 connections, or PGlite), for ${BASELINE_SECONDS} s.

${table(
  ['database', 'complaints/s (202)', 'p50', 'p99', 'bare driver loop', 'ratio to baseline'],
  results.map((r) => [
    r.kind,
    num(r.rps),
    ms(r.p50),
    ms(r.p99),
    `${num(r.baselineRps)}/s`,
    ratio(r.rps / r.baselineRps),
  ]),
)}

Answered 202 and stored: ${results.map((r) => `${r.kind} ${num(r.accepted)} and ${num(r.stored)}`).join('; ')}${results.every((r) => r.stored >= r.accepted) ? ' (every 202 stored; the few more stored than answered were in flight when autocannon stopped)' : ' (**fewer stored than answered 202**)'}; other answers: ${results.map((r) => `${r.kind} ${JSON.stringify(r.other)}`).join(', ')}.
Targets on PostgreSQL: at least 1,000 complaints/s: ${met(pg.rps >= 1000)} (${num(pg.rps)}/s); at least half the
baseline: ${met(pg.rps >= pg.baselineRps / 2)} (${ratio(pg.rps / pg.baselineRps)}).`,
);
