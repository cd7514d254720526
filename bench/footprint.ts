/**
 * Footprint: resident memory of `npm start` (the sandbox, nothing configured: in-memory PGlite) at
 * idle, summed over its whole process tree as the kernel counts it (VmRSS of every process under
 * the one started, from /proc), and of the carebot process alone. Compared in the same run with the
 * variants that explain it (the compiled sandbox without `--liftoff-only`, without the GC at ready,
 * and the sandbox under tsx as `npm start` ran it before), with processes that only open PGlite
 * (initdb in the process as carebot did before, carebot's way, with and without the two measures),
 * and with what `--liftoff-only` costs in query speed.
 *
 *   npx tsx bench/footprint.ts        BENCH_FOOTPRINT_ROUNDS=2 BENCH_FOOTPRINT_IDLE=10
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGLITE_SETTINGS } from '../src/db/embedded.js';
import { REPO_ROOT } from '../test/reliability/support/env.js';
import { envNumber, machine, mib, num, ratio, table, writeSection } from './support/report.js';
import { sleep } from './support/stats.js';

const ROUNDS = envNumber('BENCH_FOOTPRINT_ROUNDS', 2);
const IDLE_SECONDS = envNumber('BENCH_FOOTPRINT_IDLE', 10);
const GOAL = 400 * 2 ** 20;

interface Proc {
  pid: number;
  rss: number;
  peak: number;
  command: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024, command };
  } catch {
    return undefined; // Gone meanwhile.
  }
}

/** The process and all its descendants, from /proc/<pid>/task/<tid>/children. */
function processTree(root: number): Proc[] {
  const found: Proc[] = [];
  const walk = (pid: number) => {
    const proc = readProc(pid);
    if (!proc) return;
    found.push(proc);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      } catch {
        // Gone meanwhile.
      }
      for (const child of children ? children.split(/\s+/) : []) walk(Number(child));
    }
  };
  walk(root);
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

/** The environment of someone who configured nothing, so `npm start` chooses the sandbox. */
async function sandboxEnv(): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('SLACK_') || ['DATABASE_URL', 'DATA_DIR', 'NODE_ENV', 'NODE_OPTIONS'].includes(key))
      continue;
    env[key] = value;
  }
  return { ...env, PORT: String(await freePort()), LOG_LEVEL: 'warn' };
}

interface Sample {
  tree: number;
  carebot: number;
  carebotPeak: number;
  wrappers: number;
  processes: number;
  readySeconds: number;
}

/** Starts a command as its own process group, waits for the sandbox's ready line, idles, measures, ends the group. */
async function sample(command: string[]): Promise<Sample> {
  const started = Date.now();
  const child: ChildProcess = spawn(command[0] as string, command.slice(1), {
    cwd: REPO_ROOT,
    env: await sandboxEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 180 s: ${output}`)), 180_000);
      const look = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('carebot sandbox ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', look);
      child.stderr?.on('data', look);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${command.join(' ')} exited (${code}): ${output}`));
      });
    });
    const readySeconds = (Date.now() - started) / 1000;
    await sleep(IDLE_SECONDS * 1000);
    const tree = processTree(child.pid as number);
    // carebot is the biggest process of the tree; the others are npm and sh.
    const carebot = tree.reduce((a, b) => (b.rss > a.rss ? b : a));
    const total = tree.reduce((sum, p) => sum + p.rss, 0);
    return {
      tree: total,
      carebot: carebot.rss,
      carebotPeak: carebot.peak,
      wrappers: total - carebot.rss,
      processes: tree.length,
      readySeconds,
    };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 15_000);
    if (child.exitCode === null && child.signalCode === null) await exited;
    clearTimeout(timer);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function medianSample(samples: Sample[]): Sample {
  const pick = (key: keyof Sample) => median(samples.map((s) => s[key]));
  return {
    tree: pick('tree'),
    carebot: pick('carebot'),
    carebotPeak: pick('carebotPeak'),
    wrappers: pick('wrappers'),
    processes: pick('processes'),
    readySeconds: pick('readySeconds'),
  };
}

/** The folder scripts/start.mjs runs sandbox/start.js from, built now so that no start below pays for it. */
function compiledStart(): string {
  const run = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { compiledStart } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'scripts/compile-start.mjs')).href)}); console.log(await compiledStart());`,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`scripts/compile-start.mjs: ${run.stderr}`);
  return run.stdout.trim();
}

/** A process that only opens PGlite (bench/support/pglite-open.ts): its RSS and peak after 5 s. */
function pgliteOnly(mode: string, flags: string[]): { rss: number; peak: number } {
  const run = spawnSync(
    process.execPath,
    [...flags, '--import', 'tsx', join(REPO_ROOT, 'bench/support/pglite-open.ts'), mode],
    { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (run.status !== 0) throw new Error(`pglite-open ${mode}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as { rss: number; peak: number };
}

type Speed = Record<'inserts' | 'selects' | 'aggregates' | 'series', number>;
const SPEED_ROWS = 2000;
/** bench/support/pglite-speed.ts: milliseconds per part, first (cold) and last (warm) of 3 rounds. */
function pgliteSpeed(flags: string[]): { cold: Speed; warm: Speed } {
  const run = spawnSync(
    process.execPath,
    [...flags, '--import', 'tsx', join(REPO_ROOT, 'bench/support/pglite-speed.ts'), String(SPEED_ROWS), '3'],
    { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (run.status !== 0) throw new Error(`pglite-speed: ${run.stderr}`);
  const rounds = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Speed[];
  return { cold: rounds[0] as Speed, warm: rounds[rounds.length - 1] as Speed };
}

const compiled = compiledStart();
const variant = (...measures: string[]) => [
  'node',
  join(REPO_ROOT, 'bench/support/sandbox-variant.mjs'),
  compiled,
  ...measures,
];
const ways: Array<{ name: string; command: string[] }> = [
  {
    name: '`npm start` (as a person runs it: compiled, Liftoff only, one GC)',
    command: ['npm', 'start'],
  },
  { name: '`node scripts/start.mjs` (no npm)', command: ['node', 'scripts/start.mjs'] },
  { name: 'compiled, one GC, V8’s default WebAssembly tiers', command: variant('gc') },
  { name: 'compiled, Liftoff only, no GC', command: variant('liftoff') },
  { name: 'compiled, neither', command: variant() },
  {
    name: '`node --import tsx sandbox/start.ts` (`npm start` before; Liftoff only, one GC)',
    command: ['node', '--import', 'tsx', 'sandbox/start.ts'],
  },
];
const samples = new Map<string, Sample[]>(ways.map((w) => [w.name, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const way of ways) {
    const s = await sample(way.command);
    samples.get(way.name)?.push(s);
    console.log(
      `round ${round}, ${way.name}: tree ${mib(s.tree)} in ${s.processes} processes, carebot ${mib(s.carebot)} (peak ${mib(s.carebotPeak)}), ready in ${s.readySeconds.toFixed(1)} s`,
    );
  }
}
const databaseOnly = [
  {
    name: 'initdb in the process, PostgreSQL defaults (carebot before #20)',
    mode: 'initdb-default',
    flags: [],
  },
  { name: 'initdb in the process, carebot’s settings', mode: 'initdb-small', flags: [] },
  {
    name: 'carebot: unpacked from the cluster made in a child, carebot’s settings, migrated',
    mode: 'carebot',
    flags: [],
  },
  { name: 'the same, then one GC', mode: 'carebot', flags: ['--expose-gc'] },
  { name: 'the same, Liftoff only', mode: 'carebot', flags: ['--liftoff-only'] },
  {
    name: 'the same, Liftoff only and one GC (the sandbox)',
    mode: 'carebot',
    flags: ['--liftoff-only', '--expose-gc'],
  },
].map((d) => {
  const figures = Array.from({ length: ROUNDS }, () => pgliteOnly(d.mode, d.flags));
  const r = { ...d, rss: median(figures.map((f) => f.rss)), peak: median(figures.map((f) => f.peak)) };
  console.log(`PGlite only, ${d.name}: ${mib(r.rss)} (peak ${mib(r.peak)})`);
  return r;
});

// In turns, so that both see the same machine.
const speeds = {
  tiers: [] as Array<{ cold: Speed; warm: Speed }>,
  liftoff: [] as Array<{ cold: Speed; warm: Speed }>,
};
for (let round = 1; round <= Math.max(3, ROUNDS); round++) {
  speeds.tiers.push(pgliteSpeed([]));
  speeds.liftoff.push(pgliteSpeed(['--liftoff-only']));
  console.log(
    `speed round ${round}: ${JSON.stringify(speeds.tiers.at(-1))} against ${JSON.stringify(speeds.liftoff.at(-1))}`,
  );
}
const parts: Array<{ key: keyof Speed; name: string }> = [
  { key: 'inserts', name: `${num(SPEED_ROWS)} single-row inserts` },
  { key: 'selects', name: `${num(SPEED_ROWS)} selects by key` },
  { key: 'aggregates', name: '50 grouped aggregates with a LIKE over the table' },
  { key: 'series', name: '5 counts over a million-row generate_series' },
];
const speedRows = parts.flatMap((part) =>
  (['cold', 'warm'] as const).map((when) => {
    const tiers = median(speeds.tiers.map((s) => s[when][part.key]));
    const liftoff = median(speeds.liftoff.map((s) => s[when][part.key]));
    return [
      `${part.name}, ${when === 'cold' ? 'first round' : 'third round'}`,
      `${num(tiers)} ms`,
      `${num(liftoff)} ms`,
      ratio(liftoff / tiers),
    ];
  }),
);

const results = ways.map((w) => ({ name: w.name, ...medianSample(samples.get(w.name) ?? []) }));
const npmStart = results[0] as (typeof results)[number];
writeSection(
  'footprint',
  `### Footprint of \`npm start\` (bench/footprint.ts)

${await machine()}
Resident memory (VmRSS) of the sandbox that \`npm start\` runs when nothing is configured (in-memory PGlite),
${IDLE_SECONDS} s after it printed that it is ready: summed over the whole process tree (npm, sh), and of the
carebot process alone (its peak is VmHWM). Median of ${ROUNDS} starts of each, in turns.
Goal (issue #20): idle ≤ 400 MiB. \`npm start\`'s carebot process: ${mib(npmStart.carebot)}, goal ${npmStart.carebot <= GOAL ? 'met' : '**missed**'};
its whole tree: ${mib(npmStart.tree)}, goal ${npmStart.tree <= GOAL ? 'met' : '**missed**'}.
\`npm start\` runs scripts/start.mjs: sandbox/start.ts and what it imports compiled by esbuild (once per change of
the sources), not under tsx; the sandbox sets V8's \`--liftoff-only\` before opening PGlite and collects garbage
once when it is ready. The "compiled" rows are the same compiled sandbox with those two measures chosen
(bench/support/sandbox-variant.mjs).

${table(
  [
    'way to run the sandbox',
    'whole tree',
    'processes',
    'carebot process',
    'its peak',
    'the other processes',
    'ready after',
  ],
  results.map((r) => [
    r.name,
    mib(r.tree),
    r.processes,
    mib(r.carebot),
    mib(r.carebotPeak),
    mib(r.wrappers),
    `${r.readySeconds.toFixed(0)} s`,
  ]),
)}

A Node process that only opens an in-memory PGlite database, 5 s after (baseline: how carebot opened it before).
carebot's settings: \`${PGLITE_SETTINGS.join(' ')}\`.

${table(
  ['PGlite opened by', 'RSS', 'peak'],
  databaseOnly.map((d) => [d.name, mib(d.rss), mib(d.peak)]),
)}

What \`--liftoff-only\` costs (bench/support/pglite-speed.ts): the same work on carebot's in-memory PGlite with
V8's default WebAssembly tiers (Liftoff, then TurboFan for hot functions) and with Liftoff only, median of
${Math.max(3, ROUNDS)} runs of each, in turns. The first round includes compiling; the third is warm.

${table(['work', 'default tiers', 'Liftoff only', 'Liftoff only / default'], speedRows)}`,
);
