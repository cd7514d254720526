/**
 * Ingest: signed generic-webhook POSTs for BENCH_SECONDS (default 30) with autocannon, against a
 * carebot process whose Slack sync is off (only storing is measured), on PostgreSQL and on PGlite.
 * Baseline: carebot's own statement for a new complaint, prepared, in a bare loop of the driver;
 * and carebot's storing code called directly (no HTTP), each for BENCH_BASELINE_SECONDS (default 10).
 *
 *   npx tsx bench/ingest.ts        BENCH_SECONDS=10 BENCH_CONNECTIONS=16
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { openDatabase } from '../src/db/client.js';
import { createDatabase } from '../test/reliability/support/database.js';
import { carebotEnv, tempDir } from '../test/reliability/support/env.js';
import { startCarebotProcess } from '../test/reliability/support/process.js';
import { openingQuery, statementClient, storeDirectly } from './support/ingest-work.js';
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
  directRps: number;
  /** PostgreSQL only: the bare HTTP server running the same statement (bench/support/bare-ingest.ts). */
  bareHttpRps?: number;
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

async function migratedPostgres(): Promise<Awaited<ReturnType<typeof createDatabase>>> {
  const scratch = await createDatabase('carebot_bench');
  const migrated = await openDatabase({ url: scratch.url });
  await migrated.migrate();
  await migrated.close();
  return scratch;
}

/** Baseline: carebot's statement as a named prepared statement, in a bare loop per connection. */
async function postgresBaseline(seconds: number): Promise<number> {
  const scratch = await migratedPostgres();
  // The same pool size as carebot's (db/client.ts), one loop per connection.
  const sql = statementClient(scratch.url);
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const q = openingQuery(`b${w}-${i}`);
        await sql.unsafe(q.text, q.params as never[], { prepare: true });
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
    const q = openingQuery(`b-${i}`);
    await db.query(q.text, q.params);
    done += 1;
  }
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return done / seconds;
}

/**
 * carebot's storing code (`recordInbound`: dedupe, assessment, the statement, SLA) called
 * directly, CONNECTIONS at a time, in this process: the difference to the HTTP run is what the
 * HTTP layer (parsing, signature, validation, the answer) costs.
 */
async function direct(kind: IngestResult['kind'], seconds: number): Promise<number> {
  const scratch = kind === 'PostgreSQL' ? await migratedPostgres() : undefined;
  const dir = kind === 'PGlite' ? tempDir('carebot-bench-direct-') : undefined;
  const handle = await openDatabase(scratch ? { url: scratch.url } : { dataDir: dir as string });
  await handle.migrate();
  const rate = await storeDirectly(handle.db, CONNECTIONS, seconds, 'd');
  await handle.close();
  await scratch?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return rate;
}

/**
 * The HTTP floor: a bare Node HTTP server that only runs the statement for each POST (no signature,
 * validation, assessment or log line), under the same load: what HTTP on this machine costs any
 * front of the statement. PostgreSQL only.
 */
async function bareHttp(seconds: number): Promise<number> {
  const scratch = await migratedPostgres();
  const server = await startCarebotProcess(
    { DATABASE_URL: scratch.url },
    {
      entry: fileURLToPath(new URL('./support/bare-ingest.ts', import.meta.url)),
      ...(process.env.BENCH_CPU_PROF
        ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/bare`] }
        : {}),
    },
  );
  try {
    const pool = signedPool(Math.ceil(seconds * 6000) + 2000, { prefix: 'bare' });
    await load(server.url, pool.slice(-2000), 2);
    const { statuses } = await load(server.url, pool.slice(0, -2000), seconds);
    return (statuses['202'] ?? 0) / seconds;
  } finally {
    await server.stop();
    await server.kill();
    await scratch.drop();
  }
}

async function run(kind: IngestResult['kind']): Promise<IngestResult> {
  const slack = await startFakeSlack();
  const scratch = kind === 'PostgreSQL' ? await createDatabase('carebot_bench') : undefined;
  const dataDir = kind === 'PGlite' ? tempDir('carebot-bench-data-') : undefined;
  const carebot = await startCarebotProcess(
    {
      ...carebotEnv({
        slackUrl: slack.url,
        ...(scratch ? { databaseUrl: scratch.url } : {}),
        ...(dataDir ? { dataDir } : {}),
      }),
      // Not even kicked by each stored complaint: only verifying, validating and storing is measured.
      CAREBOT_SYNC: 'off',
    },
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
    const directRps = await direct(kind, BASELINE_SECONDS);
    const bareHttpRps = kind === 'PostgreSQL' ? await bareHttp(SECONDS) : undefined;
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
      directRps,
      ...(bareHttpRps === undefined ? {} : { bareHttpRps }),
    };
  } finally {
    await carebot.kill();
    await scratch?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await slack.close();
  }
}

const results: IngestResult[] = [];
// BENCH_INGEST_ONLY=PostgreSQL (or PGlite) runs one database only, for a quick look; the section is not rewritten then.
const only = process.env.BENCH_INGEST_ONLY;
for (const kind of (['PostgreSQL', 'PGlite'] as const).filter((k) => !only || k === only)) {
  console.log(`ingest on ${kind}: ${SECONDS} s with ${CONNECTIONS} connections…`);
  const r = await run(kind);
  results.push(r);
  console.log(
    `  ${num(r.rps)} complaints/s (p50 ${ms(r.p50)}, p99 ${ms(r.p99)}); called directly ${num(r.directRps)}/s; ` +
      `prepared-statement loop ${num(r.baselineRps)}/s; ` +
      (r.bareHttpRps === undefined
        ? ''
        : `bare HTTP server running the statement ${num(r.bareHttpRps)}/s; `) +
      `ratio ${ratio(r.rps / r.baselineRps)}; ${num(r.accepted)} answered 202, ${num(r.stored)} stored; other answers ${JSON.stringify(r.other)}`,
  );
}

const pg = results.find((r) => r.kind === 'PostgreSQL') as IngestResult;
if (!only)
  writeSection(
    'ingest',
    `### Ingest (bench/ingest.ts)

${await machine()}
Signed generic-webhook POSTs (each a new complaint, every one a distinct pre-signed request) for
${SECONDS} s with autocannon, ${CONNECTIONS} connections; carebot's Slack sync off, so only verifying,
validating and storing is measured. Baseline: carebot's own statement for a new complaint
(care/case-opening.ts: the case with its priority and SLA deadlines, the message and the first
events in one statement), rendered as carebot renders it and run as a named prepared statement in
a bare loop of the driver (postgres.js with carebot's 10 connections, or PGlite), for
${BASELINE_SECONDS} s: the database's own limit for this work. "Called directly": carebot's storing
code (\`recordInbound\`) in a loop of ${CONNECTIONS} at a time in one process, without HTTP; the
difference to the HTTP figure is the HTTP layer's own cost. "Bare HTTP server" (PostgreSQL): a Node
HTTP server that only runs the same statement for each POST of the same load (no signature,
validation, assessment or log line; bench/support/bare-ingest.ts): what HTTP costs any front of the
statement on this machine, the load generator sharing its cores.

${table(
  [
    'database',
    'complaints/s (202)',
    'p50',
    'p99',
    'storing called directly',
    'HTTP layer costs',
    'prepared-statement loop',
    'ratio to baseline',
    'bare HTTP server + statement',
  ],
  results.map((r) => [
    r.kind,
    num(r.rps),
    ms(r.p50),
    ms(r.p99),
    `${num(r.directRps)}/s`,
    `${Math.round((1 - r.rps / r.directRps) * 100)} %`,
    `${num(r.baselineRps)}/s`,
    ratio(r.rps / r.baselineRps),
    r.bareHttpRps === undefined ? '' : `${num(r.bareHttpRps)}/s (${ratio(r.bareHttpRps / r.baselineRps)})`,
  ]),
)}

Answered 202 and stored: ${results.map((r) => `${r.kind} ${num(r.accepted)} and ${num(r.stored)}`).join('; ')}${results.every((r) => r.stored >= r.accepted) ? ' (every 202 stored; the few more stored than answered were in flight when autocannon stopped)' : ' (**fewer stored than answered 202**)'}; other answers: ${results.map((r) => `${r.kind} ${JSON.stringify(r.other)}`).join(', ')}.
Targets on PostgreSQL: at least 1,000 complaints/s: ${met(pg.rps >= 1000)} (${num(pg.rps)}/s); at least 0.6 ×
the prepared-statement loop: ${met(pg.rps >= pg.baselineRps * 0.6)} (${ratio(pg.rps / pg.baselineRps)}).${
      pg.bareHttpRps === undefined
        ? ''
        : ` The bare HTTP server reaches ${ratio(pg.bareHttpRps / pg.baselineRps)} of the loop, carebot ${ratio(pg.rps / pg.bareHttpRps)} of the bare server.`
    }`,
  );
