import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { ts } from './cases.js';

/** A quick picture of the queue, counted in the database. */
export interface QueueOverview {
  unclaimed: number;
  owned: number;
  openedSince: number;
  resolvedSince: number;
  /** Open cases owned by the given user, when one is given. */
  mine: number;
}

export async function queueOverview(db: Database, since: Date, userId?: string): Promise<QueueOverview> {
  const [row] = await queryRows<Record<keyof QueueOverview, number | string>>(
    db,
    sql`select
          count(*) filter (where status = 'open' and owner_id is null) as unclaimed,
          count(*) filter (where status = 'open' and owner_id is not null) as owned,
          count(*) filter (where opened_at >= ${ts(since)}) as "openedSince",
          count(*) filter (where resolved_at >= ${ts(since)}) as "resolvedSince",
          count(*) filter (where status = 'open' and owner_id = ${userId ?? null}) as mine
        from cases`,
  );
  return {
    unclaimed: Number(row?.unclaimed ?? 0),
    owned: Number(row?.owned ?? 0),
    openedSince: Number(row?.openedSince ?? 0),
    resolvedSince: Number(row?.resolvedSince ?? 0),
    mine: Number(row?.mine ?? 0),
  };
}
