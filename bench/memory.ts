/**
 * Memory: resident memory of a carebot process (as the kernel counts it: VmRSS, and the peak VmHWM)
 * at idle and after a burst of BENCH_BURST complaints (default 1,000 in 10 s, 250 conversations) has
 * been stored and posted to the fake Slack, on PGlite (embedded, in the process) and on PostgreSQL.
 * Baseline: the same process at idle.
 *
 *   npx tsx bench/memory.ts        BENCH_BURST=300
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { postComplaint } from '../test/reliability/support/complaints.js';
import { createDatabase } from '../test/reliability/support/database.js';
import { carebotEnv, REPO_ROOT, tempDir } from '../test/reliability/support/env.js';
import { startCarebotProcess } from '../test/reliability/support/process.js';
import { postsMentioning } from '../test/reliability/support/slack-posts.js';
import { envNumber, machine, mib, num, ratio, table, writeSection } from './support/report.js';
import { paced, sleep } from './support/stats.js';

const TOTAL = envNumber('BENCH_BURST', 1000);
const CONVERSATIONS = Math.ceil(TOTAL / 4);

interface MemoryFigures {
  kind: string;
  idle: number;
  after: number;
  peak: number;
  heapAfter: number;
  posted: number;
  drainSeconds: number;
}

async function run(kind: 'PGlite' | 'PostgreSQL'): Promise<MemoryFigures> {
  const slack = await startFakeSlack();
  const scratch = kind === 'PostgreSQL' ? await createDatabase('carebot_bench') : undefined;
  const dataDir = kind === 'PGlite' ? tempDir('carebot-bench-data-') : undefined;
  const carebot = await startCarebotProcess(
    carebotEnv({
      slackUrl: slack.url,
      ...(scratch ? { databaseUrl: scratch.url } : { dataDir: dataDir as string }),
    }),
  );
  try {
    await sleep(5000);
    const idle = carebot.kernelMemory().rss;
    const ids: string[] = [];
    const pending: Array<Promise<unknown>> = [];
    await paced(TOTAL, 10_000 / TOTAL, (i) => {
      const id = `mem-${i}`;
      ids.push(id);
      pending.push(
        postComplaint(carebot.url, {
          source: 'forum',
          id,
          conversationId: `conv-${i % CONVERSATIONS}`,
          author: { id: `u${i % CONVERSATIONS}`, name: 'Jane Doe' },
          text: `My order never arrived [${id}]`,
        }),
      );
    });
    await Promise.all(pending);
    const burstEnd = Date.now();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !ids.every((id) => postsMentioning(slack.calls, `[${id}]`).length > 0))
      await sleep(250);
    const drainSeconds = (Date.now() - burstEnd) / 1000;
    const posted = ids.filter((id) => postsMentioning(slack.calls, `[${id}]`).length > 0).length;
    await sleep(2000);
    const { rss: after, peak } = carebot.kernelMemory();
    const { heapUsed } = await carebot.memory();
    return { kind, idle, after, peak, heapAfter: heapUsed, posted, drainSeconds };
  } finally {
    await carebot.stop();
    await scratch?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await slack.close();
  }
}

/** RSS of a process that only opens PGlite: how much of the PGlite figure is the database itself. */
async function barePglite(): Promise<number> {
  const bare = await startCarebotProcess({}, { entry: join(REPO_ROOT, 'bench/support/bare-pglite.ts') });
  await sleep(2000);
  const { rss } = bare.kernelMemory();
  await bare.stop();
  return rss;
}

const bare = await barePglite();
console.log(`a process that only opens PGlite: ${mib(bare)}`);
const results: MemoryFigures[] = [];
for (const kind of ['PGlite', 'PostgreSQL'] as const) {
  console.log(`memory on ${kind}: idle, then ${num(TOTAL)} complaints in 10 s…`);
  const r = await run(kind);
  results.push(r);
  console.log(
    `  idle ${mib(r.idle)}; after the burst ${mib(r.after)} (peak ${mib(r.peak)}, heap ${mib(r.heapAfter)}); ratio ${ratio(r.after / r.idle)}; ` +
      `${num(r.posted)}/${num(TOTAL)} posted, ${r.drainSeconds.toFixed(1)} s after the burst`,
  );
}
writeSection(
  'memory',
  `### Memory (bench/memory.ts)

${await machine()}
Resident memory of the carebot process (VmRSS; peak VmHWM) 5 s after start, and 2 s after a burst of
${num(TOTAL)} complaints in 10 s (${CONVERSATIONS} conversations) was stored and posted to the fake Slack. The process
runs under \`node --import tsx\` (TypeScript compiled on load; \`npm start\` runs it compiled, which holds less: "Footprint" below). Baseline: the same process at idle.
For reference, a Node process that only opens an embedded PGlite database as carebot does (bench/support/bare-pglite.ts)
is at ${mib(bare)}: that much of the PGlite figure is PGlite itself, not carebot.

${table(
  [
    'database',
    'idle',
    'after the burst',
    'peak',
    'JS heap after',
    'ratio to idle',
    'posted (drained after the burst)',
  ],
  results.map((r) => [
    r.kind,
    mib(r.idle),
    mib(r.after),
    mib(r.peak),
    mib(r.heapAfter),
    ratio(r.after / r.idle),
    `${num(r.posted)}/${num(TOTAL)} (${r.drainSeconds.toFixed(1)} s)`,
  ]),
)}`,
);
