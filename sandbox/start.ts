/**
 * `npm start` and `npm run sandbox` (compiled to JavaScript by scripts/start.mjs; tsx runs it too):
 * the development entry. It decides the start mode (DESIGN.md, "Start modes"; src/start-mode.ts) and
 * runs the sandbox or the real carebot. Production runs `node dist/main.js`, which has no sandbox in
 * it.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { chooseLogFormat } from '../src/logger.js';
import { readEnvironment, runCarebot } from '../src/main.js';
import { decideStartMode, incompleteMessage } from '../src/start-mode.js';
import { sandboxBanner } from './banner.js';

const env = readEnvironment();
const start = decideStartMode(env, { sandboxAsked: process.argv.includes('--sandbox') });
if (start.mode === 'sandbox') {
  // The first line printed, before any log line: nobody should mistake this for the real thing.
  process.stdout.write(`${sandboxBanner(start)}\n`);
  await runSandbox(env);
} else if (start.mode === 'incomplete') {
  process.stderr.write(`${incompleteMessage(start)}\n`);
  process.exit(1);
} else {
  await runCarebot(env);
}

async function runSandbox(env: Record<string, string>): Promise<void> {
  // PGlite's WebAssembly compiled by V8's baseline compiler only (Liftoff), without the optimising
  // tier it would move its hot functions to: 60-90 MiB less resident for the sandbox, which shows a
  // few conversations; CPU-heavy queries run 1.4-2 × slower (docs/BENCHMARKS.md, "Footprint of
  // `npm start`"). Set before the database is opened, which compiles the WebAssembly; the real
  // carebot keeps both tiers.
  setFlagsFromString('--liftoff-only');
  // Loaded only in sandbox mode: the real carebot does not need the emulators.
  const { startSandbox } = await import('./index.js');
  // Only the sandbox's own settings: DATA_DIR and DATABASE_URL may point at real data, and are not
  // passed on; the sandbox keeps a fresh database in memory.
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({
      port: env.PORT ? Number(env.PORT) : 3000,
      ...(env.SANDBOX_REPLY_DELAY ? { replyDelay: env.SANDBOX_REPLY_DELAY } : {}),
      ...(env.SANDBOX_ASSIGN_AFTER ? { assignAfter: env.SANDBOX_ASSIGN_AFTER } : {}),
      logLevel: env.LOG_LEVEL ?? 'info',
      logFormat: chooseLogFormat(
        env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty' ? env.LOG_FORMAT : undefined,
        process.stdout.isTTY,
      ),
    });
  } catch (err) {
    process.stderr.write(`the sandbox could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  // Before the ready line: whoever reads it may stop the sandbox at once, and a SIGTERM that
  // arrived before the handler would end the process without stopping it.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      sandbox.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  collectStartupGarbage();
  process.stdout.write(`\ncarebot sandbox ready: open ${sandbox.url}/\n\n`);
}

/**
 * One full garbage collection once the sandbox is up: opening PGlite leaves about 85 MiB of buffers
 * behind (the unpacked cluster tarball and its copies), and an idle sandbox never allocates enough
 * for V8 to collect them; 30-50 MiB resident less. `gc` is V8's, exposed here rather than by
 * `--expose-gc` on the command line so that every way of running this file does it.
 */
function collectStartupGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
