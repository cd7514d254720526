import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Config } from '../config.js';
import {
  type Database,
  type DatabaseHandle,
  migrationsFolder,
  openDatabase,
  queryRows,
} from '../db/client.js';
import type { CheckLine } from '../sources/types.js';

/**
 * The database answers, and drizzle's migrations table lists every migration in src/db/migrations.
 * Nothing is migrated here: carebot migrates when it starts. `open` is the database carebot already
 * has open (the start-up check); without it the configured one is opened and closed again.
 */
export async function checkDatabase(
  config: Config,
  timeoutMs: number,
  open?: Database,
): Promise<CheckLine[]> {
  const where =
    'url' in config.database
      ? 'PostgreSQL (DATABASE_URL)'
      : `the embedded database in ${config.database.dataDir}`;
  if (open) return [await checkMigrated(open, where, timeoutMs)];
  const dataDir = 'dataDir' in config.database ? config.database.dataDir : undefined;
  if (dataDir !== undefined && !existsSync(join(dataDir, 'PG_VERSION')))
    return [
      {
        ok: false,
        what: `Database: no database in ${dataDir} yet`,
        fix: 'start carebot once (it creates and migrates it), or set DATA_DIR to where its data is',
      },
    ];
  let handle: DatabaseHandle;
  try {
    handle = await withTimeout(openDatabase(config.database), timeoutMs);
  } catch (err) {
    return [
      { ok: false, what: `Database: ${where} could not be opened (${reason(err)})`, fix: fixFor(config) },
    ];
  }
  try {
    return [await checkMigrated(handle.db, where, timeoutMs)];
  } finally {
    await handle.close().catch(() => {});
  }
}

async function checkMigrated(db: Database, where: string, timeoutMs: number): Promise<CheckLine> {
  const migrations = readMigrationFiles({ migrationsFolder });
  let applied: Set<number>;
  try {
    const rows = await withTimeout(
      queryRows<{ created_at: string | number }>(
        db,
        sql`select created_at from drizzle.__drizzle_migrations`,
      ),
      timeoutMs,
    );
    applied = new Set(rows.map((r) => Number(r.created_at)));
  } catch (err) {
    // 42P01: undefined table; drizzle's migrations table is made by the first migration run.
    if (errorCodes(err).includes('42P01')) return notMigrated(where, migrations.length, migrations.length);
    return {
      ok: false,
      what: `Database: ${where} did not answer (${reason(err)})`,
      fix: 'check that the database runs and DATABASE_URL is right',
    };
  }
  const pending = migrations.filter((m) => !applied.has(m.folderMillis)).length;
  if (pending > 0) return notMigrated(where, pending, migrations.length);
  return { ok: true, what: `Database: ${where} answers, all ${migrations.length} migrations applied` };
}

function notMigrated(where: string, pending: number, total: number): CheckLine {
  return {
    ok: false,
    what: `Database: ${where} lacks ${pending} of ${total} migrations`,
    fix: 'start carebot (this version) once: it applies them at start-up',
  };
}

function fixFor(config: Config): string {
  return 'url' in config.database
    ? 'check DATABASE_URL (host, port, user, password, database) and that PostgreSQL runs and accepts connections from here'
    : 'check DATA_DIR, and stop any other carebot using the same embedded database';
}

/** The codes of an error and its causes (drizzle wraps the driver's error). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth += 1) {
    if (typeof e.code === 'string') codes.push(e.code);
    e = e.cause as typeof e;
  }
  return codes;
}

/** The error's kind, without the message of a driver that might quote the connection URL. */
function reason(err: unknown): string {
  const e = err as { code?: string; name?: string };
  if (e?.name === 'CheckTimeout') return 'no answer in time';
  return errorCodes(err).find((c) => /^[A-Z0-9_]+$/i.test(c)) ?? 'error';
}

class CheckTimeout extends Error {
  override name = 'CheckTimeout';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
