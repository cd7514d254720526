import { and, eq, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { slackNotices, sourceCursors } from '../db/schema.js';
import { ts } from '../db/tx.js';

export type SourceState = typeof sourceCursors.$inferSelect;

/** Makes sure every configured poller has a row; a new one is due at once. */
export async function registerSources(db: Database, keys: string[], now: Date): Promise<void> {
  if (keys.length === 0) return;
  await db
    .insert(sourceCursors)
    .values(keys.map((sourceKey) => ({ sourceKey, nextPollAt: now, updatedAt: now })))
    .onConflictDoNothing();
}

/**
 * Leases the poller that has waited longest among those due, so each poll runs on one instance
 * at a time. Returns undefined when none is due. The row's lease token names this lease: only its
 * holder saves the cursor.
 */
export async function leaseDueSource(
  db: Database,
  keys: string[],
  now: Date,
  leaseMs: number,
): Promise<SourceState | undefined> {
  if (keys.length === 0) return undefined;
  const until = new Date(now.getTime() + leaseMs);
  const [row] = await queryRows<{ source_key: string }>(
    db,
    sql`update ${sourceCursors} set lease_until = ${ts(until)}, lease_token = gen_random_uuid()::text
        where source_key = (
          select source_key from ${sourceCursors}
          where source_key in (${sql.join(
            keys.map((k) => sql`${k}`),
            sql`, `,
          )})
            and next_poll_at <= ${ts(now)}
            and (lease_until is null or lease_until <= ${ts(now)})
          order by next_poll_at
          limit 1
          for update skip locked)
        returning source_key`,
  );
  if (!row) return undefined;
  const [state] = await db.select().from(sourceCursors).where(eq(sourceCursors.sourceKey, row.source_key));
  return state;
}

/**
 * Records how a poll ended and when the next one is due, and releases the lease. False when the
 * lease is no longer this one's (it ran out and another instance polls now): nothing is saved.
 */
export async function finishPoll(
  db: Database,
  lease: Pick<SourceState, 'sourceKey' | 'leaseToken'>,
  now: Date,
  change: {
    cursor?: string | undefined;
    nextPollAt: Date;
    status?: 'active' | 'paused';
    pausedReason?: string | null;
  },
): Promise<boolean> {
  const rows = await db
    .update(sourceCursors)
    .set({
      ...(change.cursor !== undefined ? { cursor: change.cursor } : {}),
      nextPollAt: change.nextPollAt,
      leaseUntil: null,
      leaseToken: null,
      ...(change.status ? { status: change.status } : {}),
      ...(change.pausedReason !== undefined ? { pausedReason: change.pausedReason } : {}),
      updatedAt: now,
    })
    .where(
      and(eq(sourceCursors.sourceKey, lease.sourceKey), eq(sourceCursors.leaseToken, lease.leaseToken ?? '')),
    )
    .returning({ key: sourceCursors.sourceKey });
  return rows.length > 0;
}

/** Queues a channel message once per key. */
export async function addNotice(
  db: Database,
  notice: { key: string; channelId: string; text: string; now: Date },
): Promise<boolean> {
  const [row] = await db
    .insert(slackNotices)
    .values({ key: notice.key, channelId: notice.channelId, text: notice.text, createdAt: notice.now })
    .onConflictDoNothing()
    .returning({ id: slackNotices.id });
  return Boolean(row);
}

/** Leases notices that are due to be posted, each under its own lease token. */
export async function leaseNotices(db: Database, now: Date, leaseMs: number, limit = 10) {
  const until = new Date(now.getTime() + leaseMs);
  const rows = await queryRows<{ id: number }>(
    db,
    sql`update ${slackNotices} set next_attempt_at = ${ts(until)}, lease_token = gen_random_uuid()::text
        where id in (
          select id from ${slackNotices}
          where posted_ts is null and (next_attempt_at is null or next_attempt_at <= ${ts(now)})
          order by id limit ${limit}
          for update skip locked)
        returning id`,
  );
  if (rows.length === 0) return [];
  return db
    .select()
    .from(slackNotices)
    .where(
      and(
        sql`${slackNotices.id} in (${sql.join(
          rows.map((r) => sql`${Number(r.id)}`),
          sql`, `,
        )})`,
      ),
    )
    .orderBy(slackNotices.id);
}

type Notice = typeof slackNotices.$inferSelect;

/**
 * Records a posted notice. With a leased notice, only under its lease: false when another worker
 * has it now. Without a lease (a notice posted where it was written), by id.
 */
export async function markNoticePosted(
  db: Database,
  notice: number | Pick<Notice, 'id' | 'leaseToken'>,
  postedTs: string,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(slackNotices)
    .set({ postedTs, postedAt: now, leaseToken: null })
    .where(noticeLease(notice))
    .returning({ id: slackNotices.id });
  return rows.length > 0;
}

/** Gives a leased notice back, to be tried at `at`; false when the lease was no longer this one's. */
export async function retryNoticeAt(
  db: Database,
  notice: Pick<Notice, 'id' | 'leaseToken'>,
  at: Date,
): Promise<boolean> {
  const rows = await db
    .update(slackNotices)
    .set({ nextAttemptAt: at, leaseToken: null })
    .where(noticeLease(notice))
    .returning({ id: slackNotices.id });
  return rows.length > 0;
}

const noticeLease = (notice: number | Pick<Notice, 'id' | 'leaseToken'>) =>
  typeof notice === 'number'
    ? eq(slackNotices.id, notice)
    : and(eq(slackNotices.id, notice.id), eq(slackNotices.leaseToken, notice.leaseToken ?? ''));
