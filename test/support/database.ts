import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';

/**
 * A fresh, migrated database for one test: embedded PGlite in memory by default, or a new database
 * on the PostgreSQL server named by TEST_DATABASE_URL (dropped again by `close`), so test files can
 * run in parallel on either.
 */
export async function createTestDatabase(): Promise<DatabaseHandle> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const handle = await openDatabase({ memory: true });
    await handle.migrate();
    return handle;
  }
  const name = `carebot_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString() });
  await handle.migrate();
  return {
    ...handle,
    async close() {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** The database URL tests should hand to carebot itself, when they run on PostgreSQL. */
export const usingPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

/** Empties every table (and restarts ids), so one migrated database serves a whole test file. */
export async function truncateAll(handle: DatabaseHandle): Promise<void> {
  await handle.db.execute(
    sql`truncate table case_events, sla_reminders, slack_notices, escalations, slack_outbox, slack_threads, csat_ratings, replies, saved_replies, messages, cases, source_cursors, crisis_alerts, crisis_periods, incident_cases, incident_events, statement_batches, incidents, assignment_rotation, customers restart identity cascade`,
  );
}
