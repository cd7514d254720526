import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';

/**
 * The figures `/metrics` reads from the database at scrape time, one statement each. Each is
 * answered from a partial index (open cases, unposted outbox rows and notices, cards behind,
 * replies due), so its cost follows the size of the queue, never the size of the cases table.
 */

export interface OpenCaseCounts {
  /** Open cases by priority; every priority is present, 0 when it has none. */
  byPriority: Record<'P1' | 'P2' | 'P3', number>;
  /** Open cases nobody has claimed. */
  unclaimed: number;
}

/** Open cases by priority and how many of them are unclaimed (index-only on `cases_open_idx`). */
export async function openCaseCounts(db: Database): Promise<OpenCaseCounts> {
  const rows = await queryRows<{ priority: string; open: number | string; unclaimed: number | string }>(
    db,
    sql`select priority, count(*) as open, count(*) filter (where owner_id is null) as unclaimed
        from cases where status = 'open' group by priority`,
  );
  const counts: OpenCaseCounts = { byPriority: { P1: 0, P2: 0, P3: 0 }, unclaimed: 0 };
  for (const r of rows) {
    if (r.priority === 'P1' || r.priority === 'P2' || r.priority === 'P3') {
      counts.byPriority[r.priority] = Number(r.open);
    }
    counts.unclaimed += Number(r.unclaimed);
  }
  return counts;
}

/**
 * What has not reached Slack yet: thread messages in the outbox, channel notices, and case cards
 * not yet posted or not yet brought up to date. Each part is a partial index of the rows waiting.
 */
export async function slackPendingCount(db: Database): Promise<number> {
  const [row] = await queryRows<{ pending: number | string }>(
    db,
    sql`select (select count(*) from slack_outbox where posted_ts is null)
             + (select count(*) from slack_notices where posted_ts is null)
             + (select count(*) from cases where card_posted_version < card_version) as pending`,
  );
  return Number(row?.pending ?? 0);
}

/** Replies queued for a platform: in their undo window, due, being sent, or waiting for a retry. */
export async function repliesPendingCount(db: Database): Promise<number> {
  const [row] = await queryRows<{ pending: number | string }>(
    db,
    sql`select count(*) as pending from replies where status in ('pending', 'sending')`,
  );
  return Number(row?.pending ?? 0);
}

/** Each polled source and whether it is paused (one row a poller: a small table). */
export async function sourceStates(db: Database): Promise<Array<{ source: string; paused: boolean }>> {
  const rows = await queryRows<{ source_key: string; status: string }>(
    db,
    sql`select source_key, status from source_cursors order by source_key`,
  );
  return rows.map((r) => ({ source: r.source_key, paused: r.status === 'paused' }));
}
