/** The memory benchmark's reference: a Node process that only opens an embedded PGlite database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const dir = mkdtempSync(join(tmpdir(), 'carebot-bench-bare-pglite-'));
const db = new PGlite(dir);
await db.waitReady;
await db.query('select 1');
process.send?.({ type: 'ready', port: 0, pid: process.pid });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') {
    void db.close().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
