/**
 * Footprint: resident memory of `npm start` (the sandbox, nothing configured: in-memory PGlite) at
 * idle, summed over its whole process tree as the kernel counts it (VmRSS of every process under
 * the one started, from /proc), and of the carebot process alone. Compared in the same run with the
 * other ways to run the same sandbox (node directly, the tsx wrapper `npm start` used before,
 * compiled JavaScript), and with processes that only open PGlite: initdb in the process with
 * PostgreSQL's default settings (how carebot opened it before), and carebot's way now.
 *
 *   npx tsx bench/footprint.ts        BENCH_FOOTPRINT_ROUNDS=2 BENCH_FOOTPRINT_IDLE=10
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PGLITE_SETTINGS } from '../src/db/embedded.js';
import { REPO_ROOT } from '../test/reliability/support/env.js';
import { envNumber, machine, mib, table, writeSection } from './support/report.js';
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
    // carebot is the biggest process of the tree; the others are npm, sh, the tsx wrapper, esbuild.
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

/** src/, sandbox/ and emulators/ compiled by tsc (what `npm run build` does for src/ alone), beside node_modules. */
function buildCompiledSandbox(): string {
  const out = join(REPO_ROOT, 'node_modules/.cache/carebot/bench-build');
  mkdirSync(out, { recursive: true });
  const config = join(out, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, rootDir: REPO_ROOT, outDir: join(out, 'dist') },
      include: ['src', 'sandbox', 'emulators'].map((dir) => join(REPO_ROOT, dir)),
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', config],
    {
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) throw new Error('tsc failed');
  // What the compiled code reads from disk beside itself.
  spawnSync('cp', ['-r', join(REPO_ROOT, 'src/db/migrations'), join(out, 'dist/src/db/')]);
  spawnSync('cp', [
    join(REPO_ROOT, 'sandbox/page.html'),
    join(REPO_ROOT, 'sandbox/page-links.js'),
    join(out, 'dist/sandbox/'),
  ]);
  return join(out, 'dist/sandbox/start.js');
}

/** A process that only opens PGlite (bench/support/pglite-open.ts): its RSS and peak after 5 s. */
function pgliteOnly(mode: string): { rss: number; peak: number } {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'bench/support/pglite-open.ts'), mode],
    { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (run.status !== 0) throw new Error(`pglite-open ${mode}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as { rss: number; peak: number };
}

const compiled = buildCompiledSandbox();
const ways: Array<{ name: string; command: string[] }> = [
  { name: '`npm start` (as a person runs it)', command: ['npm', 'start'] },
  {
    name: '`node --import tsx sandbox/start.ts` (no npm)',
    command: ['node', '--import', 'tsx', 'sandbox/start.ts'],
  },
  {
    name: '`tsx sandbox/start.ts` (the start script before #20)',
    command: ['npx', 'tsx', 'sandbox/start.ts'],
  },
  { name: '`node` on compiled JavaScript (tsc)', command: ['node', compiled] },
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
  { name: 'initdb in the process, PostgreSQL defaults (carebot before #20)', mode: 'initdb-default' },
  { name: 'initdb in the process, carebot’s settings', mode: 'initdb-small' },
  {
    name: 'carebot now: unpacked from the cluster made in a child, carebot’s settings, migrated',
    mode: 'carebot',
  },
].map((d) => {
  const figures = Array.from({ length: ROUNDS }, () => pgliteOnly(d.mode));
  const r = { ...d, rss: median(figures.map((f) => f.rss)), peak: median(figures.map((f) => f.peak)) };
  console.log(`PGlite only, ${d.name}: ${mib(r.rss)} (peak ${mib(r.peak)})`);
  return r;
});

const results = ways.map((w) => ({ name: w.name, ...medianSample(samples.get(w.name) ?? []) }));
const npmStart = results[0] as (typeof results)[number];
writeSection(
  'footprint',
  `### Footprint of \`npm start\` (bench/footprint.ts)

${await machine()}
Resident memory (VmRSS) of the sandbox that \`npm start\` runs when nothing is configured (in-memory PGlite),
${IDLE_SECONDS} s after it printed that it is ready: summed over the whole process tree (npm, sh, the tsx wrapper,
esbuild), and of the carebot process alone (its peak is VmHWM). Median of ${ROUNDS} starts of each, in turns.
Goal (issue #20): idle ≤ 400 MiB. \`npm start\`'s carebot process: ${mib(npmStart.carebot)}, goal ${npmStart.carebot <= GOAL ? 'met' : '**missed**'};
its whole tree: ${mib(npmStart.tree)}, goal ${npmStart.tree <= GOAL ? 'met' : '**missed**'}.

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
)}`,
);
