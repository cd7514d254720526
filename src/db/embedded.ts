/**
 * How carebot opens its embedded PGlite database without paying initdb in the long-running process
 * (docs/BENCHMARKS.md, "Footprint of npm start"). PGlite's initdb grows the process by 450-600 MiB
 * of WebAssembly memory that is never given back; opening a cluster that is already initialised
 * costs a fraction of that. So a fresh cluster is made once in a short-lived child process, kept as
 * a tarball, and every fresh database (the sandbox's in-memory one, a first start on an empty
 * DATA_DIR, each in-memory test database) is unpacked from it.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * PGlite's memory settings, written to postgresql.conf on every open. PostgreSQL's defaults
 * (shared_buffers 128 MB and friends) size a server with many backends; PGlite has one backend,
 * and its files are either in memory already or in the operating system's page cache.
 */
export const PGLITE_SETTINGS = [
  'shared_buffers=16MB',
  'work_mem=2MB',
  'maintenance_work_mem=8MB',
  'wal_buffers=1MB',
  'temp_buffers=2MB',
];

/** Run by `node --input-type=module -e` with [PGlite's module URL, tarball path]: initdb, then the dump. */
const MAKE_CLUSTER = `
const { writeFileSync } = await import('node:fs');
const { PGlite } = await import(process.argv[1]);
const db = await PGlite.create();
const dump = await db.dumpDataDir('gzip');
writeFileSync(process.argv[2], Buffer.from(await dump.arrayBuffer()));
await db.close();
`;

const require = createRequire(import.meta.url);

function pgliteRoot(): string {
  let dir = dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('@electric-sql/pglite: package folder not found');
    dir = up;
  }
  return dir;
}

/** node_modules/.cache/carebot beside the installed PGlite, or the temporary folder when there is no node_modules. */
function cacheFolder(root: string): string {
  const marker = 'node_modules';
  const at = root.lastIndexOf(marker);
  return at >= 0
    ? join(root.slice(0, at + marker.length), '.cache', 'carebot')
    : join(tmpdir(), 'carebot-cache');
}

let making: Promise<string> | undefined;

/**
 * The gzipped tarball of a freshly initialised PGlite cluster (no tables): read from the cache
 * folder, or made in a child process and cached there (best effort: a read-only install makes it
 * again, once per process). Read from disk on each call rather than kept: the running process
 * should not hold the bytes.
 */
export async function freshCluster(): Promise<Uint8Array> {
  making ??= cachedOrMadeCluster().catch((err: unknown) => {
    making = undefined;
    throw err;
  });
  return readFileSync(await making);
}

async function cachedOrMadeCluster(): Promise<string> {
  const root = pgliteRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  const folder = cacheFolder(root);
  const file = join(folder, `pglite-${version}-cluster.tar.gz`);
  if (existsSync(file)) return file;
  const made = join(tmpdir(), `carebot-cluster-${process.pid}-${Date.now()}.tar.gz`);
  try {
    // The child pays initdb's memory and gives it all back when it exits.
    await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', MAKE_CLUSTER, import.meta.resolve('@electric-sql/pglite'), made],
      { timeout: 300_000, env: process.env },
    );
  } catch (err) {
    rmSync(made, { force: true });
    throw err;
  }
  try {
    mkdirSync(folder, { recursive: true });
    // Moved in whole: several processes (test workers) may make it at once.
    const partial = `${file}.${process.pid}.partial`;
    copyFileSync(made, partial);
    renameSync(partial, file);
    rmSync(made, { force: true });
    return file;
  } catch {
    // Not cached (a read-only install): this process keeps using its own copy.
    return made;
  }
}

/** Whether PGlite would have to run initdb for this data folder. */
export function needsInitdb(dataDir: string): boolean {
  return !existsSync(dataDir) || readdirSync(dataDir).length === 0;
}
