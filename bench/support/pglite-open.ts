/**
 * The footprint benchmark's database-only reference: a Node process that only opens an embedded
 * PGlite database (in memory), one of three ways, then prints its resident memory after 5 s idle.
 *
 *   initdb-default   `new PGlite()`: initdb in this process, PostgreSQL's default settings (carebot before #20)
 *   initdb-small     the same with carebot's PGLITE_SETTINGS
 *   carebot          `openDatabase({ memory: true })`: unpacked from the cluster made in a child, PGLITE_SETTINGS
 *
 * Run with `--expose-gc`, it collects garbage once when the database is open (as the sandbox does).
 */
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../../src/db/client.js';
import { PGLITE_SETTINGS } from '../../src/db/embedded.js';

const mode = process.argv[2];
let close: () => Promise<void>;
if (mode === 'carebot') {
  const handle = await openDatabase({ memory: true });
  await handle.migrate();
  close = handle.close;
} else if (mode === 'initdb-default' || mode === 'initdb-small') {
  const db = new PGlite(mode === 'initdb-small' ? { postgresqlconf: PGLITE_SETTINGS } : {});
  await db.waitReady;
  close = () => db.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
(globalThis as { gc?: () => void }).gc?.();
await new Promise((resolve) => setTimeout(resolve, 5000));
const status = readFileSync('/proc/self/status', 'utf8');
const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
process.stdout.write(`${JSON.stringify({ rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 })}\n`);
await close();
