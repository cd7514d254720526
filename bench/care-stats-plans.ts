/**
 * Where `/care-stats` spends its time, query by query, on a database a kept `bench/care-stats.ts`
 * run seeded (BENCH_KEEP=1 prints its name):
 *
 *   npx tsx bench/care-stats-plans.ts carebot_bench_1234abcd [30d|7d] [x|@U00000007]
 *
 * Times each stats query alone (median of 5 after a warm-up) and the whole of careStats, then runs
 * each once more with PostgreSQL's auto_explain (`log_analyze`, `log_buffers`) and prints every
 * statement's time and pages inside PostgreSQL; the plans go to /tmp/care-stats-plans/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { incidentFigures } from '../src/care/incident-stats.js';
import { careStats } from '../src/care/stats.js';
import { csatFigures } from '../src/care/stats-csat.js';
import type { StatsFilter } from '../src/care/stats-filter.js';
import { openedFigures } from '../src/care/stats-opened.js';
import { statsPeriod } from '../src/care/stats-period.js';
import type { StatsRequest } from '../src/care/stats-query.js';
import { nextResponseFigures, resolutionFigures } from '../src/care/stats-response.js';
import { workflowFigures } from '../src/care/stats-workflow.js';
import { backlogNow, breachCounts, escalationFigures, repliesSent } from '../src/care/stats-workload.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { disableAutoExplain, enableAutoExplain } from './support/auto-explain.js';

const [name, kind = '30d', filterArg] = process.argv.slice(2);
if (!name) throw new Error('usage: care-stats-plans.ts <database> [30d|7d] [platform|@agent]');
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NOW = new Date('2026-11-23T10:00:00Z');
const OUT = process.env.PLANS_OUT ?? '/tmp/care-stats-plans';

const filter: StatsFilter = !filterArg
  ? {}
  : filterArg.startsWith('@')
    ? { agentId: filterArg.slice(1) }
    : { platform: filterArg };
const req: StatsRequest = {
  period: statsPeriod({ kind: kind as '30d' | '7d' }, NOW, 'UTC'),
  filter,
  now: NOW,
  businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', holidays: [] },
};

const parts: Array<[string, (db: Database) => Promise<unknown>]> = [
  ['openedFigures (3 statements side by side)', (db) => openedFigures(db, req)],
  ['resolutionFigures', (db) => resolutionFigures(db, req)],
  ['nextResponseFigures', (db) => nextResponseFigures(db, req)],
  ['breachCounts', (db) => breachCounts(db, req)],
  ['escalationFigures', (db) => escalationFigures(db, req)],
  ['repliesSent', (db) => repliesSent(db, req)],
  ['backlogNow', (db) => backlogNow(db, req)],
  ['csatFigures', (db) => csatFigures(db, req)],
  ['workflowFigures', (db) => workflowFigures(db, req)],
  ['incidentFigures', (db) => incidentFigures(db, req.period.current)],
  ['careStats (all, side by side)', (db) => careStats(db, req)],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const url = new URL(SERVER);
url.pathname = `/${name}`;
const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
try {
  const timing = await openDatabase({ url: url.toString() });
  console.log(`${kind}${filterArg ? ` ${filterArg}` : ''} on ${name}: median of 5, each query alone`);
  for (const [what, run] of parts) {
    await run(timing.db);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await run(timing.db);
      times.push(performance.now() - started);
    }
    console.log(`  ${what.padEnd(30)} ${median(times).toFixed(0).padStart(6)} ms`);
  }
  await timing.close();

  await enableAutoExplain(admin, name);
  try {
    let notices: string[] = [];
    const explained = await openDatabase({
      url: url.toString(),
      onNotice: (n) => {
        notices.push(String(n.message));
      },
    });
    mkdirSync(OUT, { recursive: true });
    console.log('inside PostgreSQL (auto_explain, analyze on: slower than above), statements over 1 ms:');
    for (const [what, run] of parts.slice(0, -1)) {
      await run(explained.db);
      notices = [];
      await run(explained.db);
      const plans = notices.filter((n) => n.startsWith('duration:'));
      writeFileSync(`${OUT}/${what}.txt`, plans.join('\n\n'));
      for (const plan of plans) {
        const ms = Number(/duration: ([\d.]+) ms/.exec(plan)?.[1]);
        if (ms < 1) continue;
        const buffers = /Buffers: ([^\n]+)/.exec(plan)?.[1] ?? '';
        console.log(`  ${what.padEnd(30)} ${ms.toFixed(0).padStart(6)} ms  ${buffers}`);
      }
    }
    await explained.close();
  } finally {
    await disableAutoExplain(admin, name);
  }
} finally {
  await admin.end({ timeout: 5 });
}
