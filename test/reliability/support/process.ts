import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildMessage, ParentMessage } from './carebot-process.js';
import { REPO_ROOT, tempDir } from './env.js';

const ENTRY = join(REPO_ROOT, 'test/reliability/support/carebot-process.ts');
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CarebotProcess {
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (its log). */
  log(): string;
  /** Runs the Slack sync to completion inside the process (for CAREBOT_SCHEDULE=off). */
  sync(): Promise<number>;
  memory(): Promise<{ rss: number; heapUsed: number }>;
  /** Resident and peak resident memory in bytes, as the kernel counts them (Linux). */
  kernelMemory(): { rss: number; peak: number };
  /** SIGKILL: no shutdown, no flush, whatever was in flight is cut. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Graceful stop (what SIGTERM does). */
  stop(): Promise<void>;
}

/**
 * Starts carebot in a child process (`node --import tsx`, so the pid is carebot itself, not a
 * wrapper) with exactly the given environment, and resolves once it listens.
 */
export async function startCarebotProcess(
  env: Record<string, string>,
  opts: { schedule?: boolean; entry?: string; nodeOptions?: string[] } = {},
): Promise<CarebotProcess> {
  const child = fork(opts.entry ?? ENTRY, [], {
    execArgv: ['--import', TSX_LOADER, ...(opts.nodeOptions ?? [])],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...(opts.schedule === false ? { CAREBOT_SCHEDULE: 'off' } : {}),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    cwd: REPO_ROOT,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    // Keep the tail only: a long run logs a lot.
    if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    // A carebot that dies on its own (not killed by the test) says why, in the test's output.
    if (code !== 0 && signal === null)
      console.error(`carebot process exited with ${code}:\n${stderr.slice(-3000)}`);
  });
  const ready = await new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`carebot did not start within 60 s:\n${stderr}`)),
      60_000,
    );
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`carebot exited before it was ready (${code ?? signal}):\n${stderr.slice(-4000)}`));
    });
  });
  let nextId = 1;
  const ask = <T extends ChildMessage>(message: ParentMessage & { id: number }, type: T['type']) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: ChildMessage) => {
        if (m.type === type && 'id' in m && m.id === message.id) {
          child.off('message', onMessage);
          resolve(m as T);
        }
      };
      child.on('message', onMessage);
      child.send(message, (err) => err && reject(err));
    });
  return {
    pid: ready.pid,
    port: ready.port,
    url: `http://127.0.0.1:${ready.port}`,
    child,
    log: () => stderr,
    sync: async () =>
      (await ask<Extract<ChildMessage, { type: 'synced' }>>({ type: 'sync', id: nextId++ }, 'synced')).leased,
    memory: async () => {
      const m = await ask<Extract<ChildMessage, { type: 'memory' }>>(
        { type: 'memory', id: nextId++ },
        'memory',
      );
      return { rss: m.rss, heapUsed: m.heapUsed };
    },
    kernelMemory: () => {
      const status = readFileSync(`/proc/${ready.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface MainProcess {
  url: string;
  child: ChildProcess;
  log(): string;
  kill(): Promise<void>;
}

/**
 * carebot as `npm start` runs it in real mode (`sandbox/start.ts`: src/main.ts's runCarebot, with its
 * own signal and error handlers), the same code under tsx rather than compiled by scripts/start.mjs,
 * on a free port, from an empty working folder so no `.env` is read. Resolves once /healthz answers.
 */
export async function startMainProcess(env: Record<string, string>): Promise<MainProcess> {
  const port = await freePort();
  const child = fork(join(REPO_ROOT, 'sandbox/start.ts'), [], {
    execArgv: ['--import', TSX_LOADER],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    cwd: tempDir('carebot-rel-cwd-'),
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-1_000_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`carebot exited while starting:\n${output.slice(-4000)}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until)
      throw new Error(`carebot did not answer /healthz within 60 s:\n${output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    log: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
