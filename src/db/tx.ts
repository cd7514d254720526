import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** A transaction of the database, as `db.transaction` hands it to its callback. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** A timestamp parameter for raw SQL: both drivers accept ISO text, not every driver a Date. */
export const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
