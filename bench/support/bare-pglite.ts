/**
 * The memory benchmark's reference: a Node process that only opens an embedded PGlite database in a
 * fresh data folder, the way carebot does (openDatabase: the cluster from a child process, carebot's
 * settings; migrated).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/client.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-bench-bare-pglite-'));
const db = await openDatabase({ dataDir: dir });
await db.migrate();
process.send?.({ type: 'ready', port: 0, pid: process.pid });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') {
    void db.close().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
