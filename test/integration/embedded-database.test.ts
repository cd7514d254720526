import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../src/db/client.js';
import { needsInitdb } from '../../src/db/embedded.js';

/**
 * The embedded database is unpacked from a cluster initialised in a child process (src/db/embedded.ts)
 * and opened with small memory settings (docs/BENCHMARKS.md, "Footprint of npm start").
 */
const dir = mkdtempSync(join(tmpdir(), 'carebot-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setting = async (db: Awaited<ReturnType<typeof openDatabase>>, name: string) =>
  (await queryRows<{ value: string }>(db.db, sql`select current_setting(${name}) as value`))[0]?.value;

describe('the embedded database', () => {
  it('in memory: fresh, migratable, with the small settings', async () => {
    const handle = await openDatabase({ memory: true });
    try {
      await handle.migrate();
      expect(await setting(handle, 'shared_buffers')).toBe('16MB');
      const [row] = await queryRows<{ n: number }>(handle.db, sql`select count(*)::int as n from cases`);
      expect(row?.n).toBe(0);
    } finally {
      await handle.close();
    }
  }, 120_000);

  it('in DATA_DIR: an empty folder gets a cluster, and what was stored is there at the next start', async () => {
    const dataDir = join(dir, 'data');
    expect(needsInitdb(dataDir)).toBe(true);
    const first = await openDatabase({ dataDir });
    await first.migrate();
    await first.db.execute(sql`create table kept (v text)`);
    await first.db.execute(sql`insert into kept values ('still here')`);
    await first.close();
    expect(needsInitdb(dataDir)).toBe(false);

    const again = await openDatabase({ dataDir });
    try {
      await again.migrate();
      expect(await setting(again, 'shared_buffers')).toBe('16MB');
      expect(await queryRows<{ v: string }>(again.db, sql`select v from kept`)).toEqual([
        { v: 'still here' },
      ]);
    } finally {
      await again.close();
    }
  }, 120_000);
});
