import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm start` as a person runs it: `node scripts/start.mjs` (package.json; it compiles sandbox/start.ts
 * and what it imports, then runs it) in a fresh process, in a folder of its own (so no developer's
 * .env or carebot.config.yaml is read), with only the environment given here.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'scripts', 'start.mjs');
// Generous: the first start compiles, and CI shares two cores.
const TIMEOUT_MS = 60_000;
// The sandbox also migrates a database and starts four servers before it is ready.
const SANDBOX_TIMEOUT_MS = 120_000;

const dirs: string[] = [];
const children = new Set<ChildProcess>();
/** End the whole process group, or a sandbox would stay behind. */
function killAll(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
afterAll(() => {
  for (const child of children) killAll(child);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'carebot-start-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>, args: string[] = [], cwd = tempDir()): Run {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    // PORT=0: should it start a server after all, it must not take a port someone uses.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => {
    child.once('exit', (code) => {
      children.delete(child);
      done(code);
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The exit code, or a failure naming what the process printed when it keeps running instead. */
async function exitCode(run: Run): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'running'>((done) => {
    timer = setTimeout(() => done('running'), TIMEOUT_MS - 5_000);
  });
  const result = await Promise.race([run.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'running') {
    killAll(run.child);
    throw new Error(`still running instead of refusing to start; it printed:\n${run.stdout().slice(0, 500)}`);
  }
  return result;
}

describe('npm start', () => {
  it.each([
    ['DATABASE_URL without a bot token', { DATABASE_URL: 'postgres://carebot:s3cret@127.0.0.1:9/care' }],
    ['NODE_ENV=production without a bot token', { NODE_ENV: 'production' }],
    ['a signing secret without a bot token', { SLACK_SIGNING_SECRET: 'sign-me', SLACK_BOT_TOKEN: '' }],
  ])(
    'refuses to start with %s, and lists what is missing',
    async (_what, env) => {
      const run = start(env);
      expect(await exitCode(run)).toBe(1);
      const stderr = run.stderr();
      expect(stderr).toMatch(/^carebot cannot start: /);
      expect(stderr).toContain('  - SLACK_BOT_TOKEN: ');
      expect(stderr).toContain('CARE_CHANNEL_ID');
      expect(stderr).toContain('npm run sandbox');
      // A clear message, no stack trace, no secret.
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stderr).not.toContain('s3cret');
      expect(stderr).not.toContain('sign-me');
      // Nothing was started: no sandbox, no log line.
      expect(run.stdout()).toBe('');
    },
    TIMEOUT_MS,
  );

  it(
    'reads .env with empty values as unset: a half-filled copy of .env.example is refused, not sandboxed',
    async () => {
      const cwd = tempDir();
      writeFileSync(
        join(cwd, '.env'),
        'SLACK_BOT_TOKEN=\nSLACK_APP_TOKEN=xapp-1-A1-abc\nSLACK_SIGNING_SECRET=\n',
      );
      // Empty in the process environment too (a compose file passing an unset host variable through):
      // that must not hide the value in .env.
      const run = start({ SLACK_APP_TOKEN: '' }, [], cwd);
      expect(await exitCode(run)).toBe(1);
      expect(run.stderr()).toContain('SLACK_APP_TOKEN is set');
      expect(run.stderr()).toContain('  - SLACK_BOT_TOKEN: ');
      // The app token is there, so neither it nor a signing secret is asked for.
      expect(run.stderr()).not.toContain('SLACK_SIGNING_SECRET');
    },
    TIMEOUT_MS,
  );
});

describe('npm run sandbox', () => {
  it(
    'says it is the sandbox on its first line, and leaves DATA_DIR and DATABASE_URL alone',
    async () => {
      const dataDir = join(tempDir(), 'real-data');
      const run = start(
        {
          PORT: '0',
          DATA_DIR: dataDir,
          // Nothing listens there: were the sandbox to use it, it would fail to start.
          DATABASE_URL: 'postgres://carebot@127.0.0.1:9/care',
          SLACK_BOT_TOKEN: 'xoxb-real-token',
          LOG_LEVEL: 'warn',
        },
        ['--sandbox'],
      );
      const ready = await new Promise<string>((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`no ready line; printed:\n${run.stdout()}`)),
          SANDBOX_TIMEOUT_MS - 5_000,
        );
        run.child.stdout?.on('data', () => {
          const found = /carebot sandbox ready: open (http:\/\/\S+)\//.exec(run.stdout());
          if (found) {
            clearTimeout(timer);
            done(found[1] as string);
          }
        });
        run.exited.then((code) => fail(new Error(`exited with ${code}: ${run.stderr()}`)));
      });
      expect(run.stdout().split('\n')[0]).toMatch(/^carebot SANDBOX \(npm run sandbox\): /);
      expect(run.stdout().split('\n')[0]).toContain('DATABASE_URL and DATA_DIR ignored');
      expect(ready).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await fetch(`${ready}/`);
      expect(page.status).toBe(200);
      // Its data is in memory: the real data folder was never created.
      expect(existsSync(dataDir)).toBe(false);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    },
    SANDBOX_TIMEOUT_MS,
  );

  it(
    'with readable logs (LOG_FORMAT=pretty, as on a terminal) keeps the banner first and the open line whole',
    async () => {
      const run = start({ PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' }, ['--sandbox']);
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`no ready line; printed:\n${run.stdout()}`)),
          SANDBOX_TIMEOUT_MS - 5_000,
        );
        run.child.stdout?.on('data', () => {
          if (/carebot sandbox ready: open http:\/\/\S+\/\n/.test(run.stdout())) {
            clearTimeout(timer);
            done();
          }
        });
        run.exited.then((code) => fail(new Error(`exited with ${code}: ${run.stderr()}`)));
      });
      const lines = run.stdout().split('\n');
      expect(lines[0]).toMatch(/^carebot SANDBOX \(npm run sandbox\): /);
      const open = lines.findIndex((l) => l.startsWith('carebot sandbox ready: open http://127.0.0.1:'));
      // The start-up log lines sit between the banner and the open line, each one readable line.
      const logLines = lines.slice(1, open).filter((l) => l !== '');
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): /);
      expect(logLines.some((l) => l.includes('INFO: database ready'))).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    },
    SANDBOX_TIMEOUT_MS,
  );
});
