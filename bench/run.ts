/**
 * `npm run bench`: every benchmark in turn, each in its own process (so one's memory and
 * connections do not weigh on the next), each writing its section of docs/BENCHMARKS.md.
 * `npm run bench -- ingest burst` runs only those. The last three seed large histories and take
 * most of the time (about an hour for all on two cores, `scale` with 10 M cases most of it):
 * `npm run bench -- --quick` leaves them out.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../test/reliability/support/env.js';

const QUICK = ['ingest', 'complaint-to-slack', 'burst', 'ack', 'sla-sweep', 'memory', 'footprint'];
const ALL = [...QUICK, 'care-stats', 'job-plans', 'scale'];
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = chosen.filter((name) => !ALL.includes(name));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const loader = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const timings: Array<[string, number, number | null]> = [];
const started = Date.now();
for (const name of chosen.length ? chosen : process.argv.includes('--quick') ? QUICK : ALL) {
  console.log(`\n== ${name}`);
  const t0 = Date.now();
  const run = spawnSync(process.execPath, ['--import', loader, join(REPO_ROOT, 'bench', `${name}.ts`)], {
    stdio: 'inherit',
    cwd: REPO_ROOT,
    env: process.env,
  });
  timings.push([name, (Date.now() - t0) / 1000, run.status]);
}
console.log('\n== done');
for (const [name, seconds, status] of timings) {
  console.log(
    `${name.padEnd(20)} ${seconds.toFixed(0).padStart(4)} s${status === 0 ? '' : `  FAILED (exit ${status})`}`,
  );
}
console.log(`${'total'.padEnd(20)} ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`);
process.exit(timings.every(([, , status]) => status === 0) ? 0 : 1);
