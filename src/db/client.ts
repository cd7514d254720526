import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { fillPlaceholders, type SQL, sql } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { freshCluster, needsInitdb, PGLITE_SETTINGS } from './embedded.js';
import * as schema from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Applies the committed migrations; safe when several instances start at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** The committed migrations (copied beside dist/db/client.js by the build). */
export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

// Any fixed number shared by all instances: it names the advisory lock held while migrating.
const MIGRATION_LOCK_ID = 7_240_311;

export type DatabaseTarget =
  /** `onNotice`: where PostgreSQL's notices go (benchmarks read auto_explain's plans); default nowhere. */
  { url: string; onNotice?: (notice: postgres.Notice) => void } | { dataDir: string } | { memory: true };

export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if ('url' in target) return openPostgres(target.url, target.onNotice);
  const dataDir = 'dataDir' in target ? target.dataDir : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // A fresh database is unpacked from a cluster initialised in a child process (embedded.ts).
  const fresh = !dataDir || needsInitdb(dataDir);
  const cluster = fresh ? await freshCluster().catch(() => undefined) : undefined;
  const client = new PGlite({
    ...(dataDir ? { dataDir } : {}),
    postgresqlconf: PGLITE_SETTINGS,
    // Without the tarball (no child process could make it), PGlite runs initdb here, as before.
    ...(cluster ? { loadDataDir: new Blob([cluster]) } : {}),
  });
  await client.waitReady;
  const db = drizzlePglite(client, { schema });
  return {
    db,
    kind: 'pglite',
    // An embedded database has exactly one process using it, so no lock is needed.
    migrate: () => migratePglite(db, { migrationsFolder }),
    close: () => client.close(),
  };
}

/**
 * Seconds before a connection that closed with an error may connect again. postgres.js counts
 * `retries` across the whole pool, so one cut of ten busy connections already means 10 retries,
 * and its own backoff (3^retries / 100 s, up to 20 s) then keeps every query waiting 10-20 s after
 * the database is back. This one grows gently and stays under two seconds, with jitter.
 */
export function reconnectDelaySeconds(retries: number): number {
  return Math.min(2, 0.05 * 1.5 ** Math.min(retries, 20)) * (0.5 + Math.random() / 2);
}

/** The version of postgres.js carebot is pinned to (package.json), the one scripts/patch-postgres.mjs repairs. */
export const POSTGRES_DRIVER_VERSION = '3.4.9';
/** What scripts/patch-postgres.mjs writes into each repaired place of postgres.js's connection.js. */
const DRIVER_GUARD_MARK = 'carebot: closed connection';

/** Thrown at start-up on PostgreSQL when the installed postgres.js lacks the closed-connection repair. */
export class DriverNotGuarded extends Error {}

/** The folder of the postgres.js package Node loads for carebot. */
export function postgresPackageRoot(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('postgres'));
  while (!existsSync(join(dir, 'package.json')) || !dir.endsWith('postgres')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('postgres.js: package folder not found');
    dir = up;
  }
  return dir;
}

/**
 * Why the postgres.js under `root` must not run carebot, or undefined when it may: postgres.js
 * 3.4.9 can end the process when a connection closes with a small write buffered (docs/RELIABILITY.md,
 * finding 2), and install repairs it (scripts/patch-postgres.mjs). Another version, or an install
 * without scripts (`npm ci --ignore-scripts`), leaves it unrepaired.
 */
export function driverGuardProblem(root: string): string | undefined {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string })
    .version;
  if (version !== POSTGRES_DRIVER_VERSION)
    return `postgres.js ${version ?? '(unknown version)'} is installed, but carebot is pinned to ${POSTGRES_DRIVER_VERSION} (run \`npm ci\`)`;
  // Both builds: Node loads src/ for `import`, cjs/ for `require`.
  for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
    const path = join(root, file);
    const marks = existsSync(path) ? readFileSync(path, 'utf8').split(DRIVER_GUARD_MARK).length - 1 : 0;
    if (marks < 3)
      return `postgres.js ${version} (${file}) lacks carebot's closed-connection repair: run \`node scripts/patch-postgres.mjs\` (npm ci runs it, unless --ignore-scripts)`;
  }
  return undefined;
}

function openPostgres(url: string, onNotice: (notice: postgres.Notice) => void = () => {}): DatabaseHandle {
  // A PostgreSQL restart must never end the process: refuse to run on a driver that it could.
  const problem = driverGuardProblem(postgresPackageRoot());
  if (problem) throw new DriverNotGuarded(problem);
  const client = postgres(url, {
    max: 10,
    onnotice: onNotice,
    backoff: reconnectDelaySeconds,
    // postgres.js would look up array types on each new connection in a promise nobody holds
    // (connection.js fetchArrayTypes): a cut during that lookup rejected it unhandled. carebot uses
    // no array columns or array results, so the lookup is not needed.
    fetch_types: false,
  });
  const db = drizzlePostgres(client, { schema });
  return {
    db,
    kind: 'postgres',
    async migrate() {
      // The advisory lock is per session, so migrate through a client with exactly one connection.
      const single = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await single`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
        await migratePostgres(drizzlePostgres(single, { schema }), { migrationsFolder });
      } finally {
        // Ending the session releases the lock even if the migration failed.
        await single.end({ timeout: 5 });
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * Runs raw SQL and returns its rows. The two drivers shape `execute` results differently
 * (postgres.js: an array; PGlite: `{ rows }`), and the queries that need `FOR UPDATE SKIP LOCKED`
 * or `percentile_cont` are written in SQL.
 */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

export async function ping(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}

const dialect = new PgDialect();

interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): Promise<unknown[]>;
}

interface PGliteClient {
  query<T>(query: string, params: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * A statement rendered to text once, with named placeholders (`sql.placeholder('name')`) where its
 * values go: drizzle's rendering then costs nothing per run, only `fillPlaceholders`.
 */
export interface RenderedStatement {
  text: string;
  params: unknown[];
}

export function renderOnce(query: SQL): RenderedStatement {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return { text, params };
}

/** A rendered statement with its placeholders filled: the text and parameters a driver runs. */
export function withValues(statement: RenderedStatement, values: Record<string, unknown>): RenderedStatement {
  return { text: statement.text, params: fillPlaceholders(statement.params, values) };
}

/**
 * Runs a statement run very often (a complaint being stored), rendered once: on PostgreSQL as a
 * named prepared statement, planned once per connection instead of on every run, which drizzle's
 * `execute` does not do; on PGlite as an extended-protocol query with the same parameters. It runs
 * on the database's own client, so it takes the database, never a transaction (one has no client of
 * its own, and running beside it would escape it): given one, it throws.
 */
export async function queryRowsPrepared<T>(
  db: Database,
  statement: RenderedStatement,
  values: Record<string, unknown>,
): Promise<T[]> {
  const { text, params } = withValues(statement, values);
  const client = (db as unknown as { $client?: Partial<PostgresJsClient & PGliteClient> }).$client;
  if (typeof client?.unsafe === 'function')
    return (await (client as PostgresJsClient).unsafe(text, params, { prepare: true })) as T[];
  if (typeof client?.query === 'function')
    return (await (client as PGliteClient).query<T>(text, params)).rows;
  throw new Error(
    'queryRowsPrepared: given a transaction or a handle with neither postgres.js nor PGlite underneath',
  );
}

/**
 * Many rows as one parameter: `insert into t (a, b) select a, b from ${jsonRecords(rows)} as r(a int, b text)`.
 * Building a multi-row VALUES list costs drizzle time that grows with every value, which a
 * sweep of a hundred cases feels; one JSON text costs a stringify. Keys are the column names.
 */
export function jsonRecords(rows: ReadonlyArray<Record<string, unknown>>): SQL {
  return sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)`;
}
