/**
 * The footprint benchmark's speed reference: what `--liftoff-only` (set by the sandbox) costs
 * carebot's in-memory PGlite (`openDatabase({ memory: true })`, migrated). bench/footprint.ts runs it
 * with and without the flag. Each round: N single-row inserts, N selects by key, 50 grouped
 * aggregates with a LIKE over the table (N rows more each round), and 5 counts over a million-row
 * generate_series (CPU in PostgreSQL's executor only). Prints the milliseconds of each part, per
 * round, as JSON: the first round includes V8's compiling, later rounds are warm.
 *
 *   node [--liftoff-only] --import tsx bench/support/pglite-speed.ts [N=2000] [rounds=3]
 */
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows } from '../../src/db/client.js';

const handle = await openDatabase({ memory: true });
await handle.migrate();
const { db } = handle;
await db.execute(sql`create table speed (id serial primary key, k int not null, body text not null)`);
await db.execute(sql`create index on speed (k)`);
const time = async (part: () => Promise<void>) => {
  const started = performance.now();
  await part();
  return Math.round(performance.now() - started);
};
const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);
const rounds: Array<Record<string, number>> = [];
for (let round = 0; round < ROUNDS; round++) {
  const inserts = await time(async () => {
    for (let i = round * N; i < (round + 1) * N; i++)
      await db.execute(sql`insert into speed (k, body) values (${i % 100}, ${`message ${i} `.repeat(10)})`);
  });
  const selects = await time(async () => {
    for (let i = 0; i < N; i++) await queryRows(db, sql`select * from speed where id = ${1 + (i % N)}`);
  });
  const aggregates = await time(async () => {
    for (let i = 0; i < 50; i++)
      await queryRows(
        db,
        sql`select k, count(*), max(length(body)) from speed where body like ${`%${i}%`} group by k order by 2 desc`,
      );
  });
  const series = await time(async () => {
    for (let i = 0; i < 5; i++)
      await queryRows(
        db,
        sql`select count(*), sum(g % 13) from generate_series(1, 1000000) g where g % 7 = ${i}`,
      );
  });
  rounds.push({ inserts, selects, aggregates, series });
}
process.stdout.write(`${JSON.stringify(rounds)}\n`);
await handle.close();
