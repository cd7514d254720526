import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { cases, messages, type ReplyRow, replies, savedReplies, slackOutbox } from '../db/schema.js';
import { ts } from '../db/tx.js';
import { stopResponseClocks } from './case-clocks.js';
import { logEvent } from './case-store.js';
import type { Clock } from './clock.js';

/**
 * Delivering queued replies: leasing the due ones (one at a time per case, across instances), the
 * lease heartbeat, and recording the outcome: sent, retry later, failed, held or deferred.
 */

/**
 * Leases replies whose undo window is over, oldest first and one at a time per case. A reply
 * stuck in `sending` past its lease (a crashed or stalled instance) is taken again, marked as of
 * unknown outcome, so its platform is searched for it before it is sent again. Each leased row gets
 * its own random lease token: only the holder of the token may end or extend the lease.
 */
export async function leaseDueReplies(
  db: Database,
  clock: Clock,
  limit: number,
  leaseMs: number,
): Promise<ReplyRow[]> {
  const now = clock.now();
  const until = new Date(now.getTime() + leaseMs);
  // In a set clause, `status` is the row's old value: a row taken from an expired lease.
  const rows = await queryRows<{ id: number }>(
    db,
    sql`update ${replies} set status = 'sending', lease_until = ${ts(until)}, attempts = attempts + 1,
          lease_token = gen_random_uuid()::text,
          outcome_unknown = outcome_unknown or status = 'sending'
        where id in (
          select id from ${replies} r
          where ((r.status = 'pending' and r.send_at <= ${ts(now)})
             or (r.status = 'sending' and r.lease_until <= ${ts(now)}))
            -- A customer gets a case's replies in the order they were written: a reply waits
            -- while an earlier one of its case is still on its way (or waiting for a retry).
            and not exists (
              select 1 from ${replies} earlier
              where earlier.case_id = r.case_id
                and (earlier.position, earlier.id) < (r.position, r.id)
                and earlier.status in ('pending', 'sending'))
          order by r.send_at, r.position, r.id
          limit ${limit}
          for update skip locked)
        returning id`,
  );
  if (rows.length === 0) return [];
  return db
    .select()
    .from(replies)
    .where(
      inArray(
        replies.id,
        rows.map((r) => Number(r.id)),
      ),
    )
    .orderBy(replies.sendAt, replies.id);
}

/** The authors of the replies that are due now, so their names are known before any is leased. */
export async function dueReplyAuthors(db: Database, clock: Clock, limit: number): Promise<string[]> {
  const now = clock.now();
  const rows = await queryRows<{ author_id: string }>(
    db,
    sql`select distinct author_id from (
          select author_id from ${replies}
          where (status = 'pending' and send_at <= ${ts(now)})
             or (status = 'sending' and lease_until <= ${ts(now)})
          order by send_at
          limit ${limit}) due`,
  );
  return rows.map((r) => r.author_id);
}

/** This lease, and only this one: the row is still `sending` under the token it was leased with. */
const held = (reply: ReplyRow) =>
  and(
    eq(replies.id, reply.id),
    eq(replies.status, 'sending'),
    // A row without a token was never leased by this code: nothing matches it.
    eq(replies.leaseToken, reply.leaseToken ?? ''),
  );

/**
 * Pushes the lease of a reply being sent further out (a heartbeat while the platform answers).
 * False when the lease is no longer this one's: another instance took the reply over.
 */
export async function extendReplyLease(
  db: Database,
  clock: Clock,
  reply: ReplyRow,
  leaseMs: number,
): Promise<boolean> {
  const until = new Date(clock.now().getTime() + leaseMs);
  const rows = await db
    .update(replies)
    .set({ leaseUntil: until })
    .where(held(reply))
    .returning({ id: replies.id });
  return rows.length > 0;
}

/** Records a delivered reply: the message, the case's last reply, the ✅ feedback for Slack. */
export async function markSent(
  db: Database,
  clock: Clock,
  reply: ReplyRow,
  delivered: { externalId?: string | undefined; url?: string | undefined; note?: string | undefined },
): Promise<boolean> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [sent] = await tx
      .update(replies)
      .set({
        status: 'sent',
        sentAt: now,
        leaseUntil: null,
        leaseToken: null,
        outcomeUnknown: false,
        lastError: null,
        externalId: delivered.externalId ?? null,
        externalUrl: delivered.url ?? null,
        deliveryNote: delivered.note ?? null,
        updatedAt: now,
      })
      .where(held(reply))
      .returning();
    if (!sent) return false;
    // The rating question is carebot's, after the case was resolved: not an answer to the customer.
    const answer = reply.kind !== 'csat';
    const [caseRow] = answer
      ? await tx
          .update(cases)
          .set({ lastReplyAt: now, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
          .where(eq(cases.id, reply.caseId))
          .returning()
      : await tx.select().from(cases).where(eq(cases.id, reply.caseId));
    if (answer) await stopResponseClocks(tx, reply.caseId, now);
    await tx.insert(messages).values({
      caseId: reply.caseId,
      kind: 'outbound',
      sourceKey: caseRow?.sourceKey ?? '',
      externalId: delivered.externalId ?? null,
      authorId: reply.authorId,
      text: reply.text,
      url: delivered.url ?? null,
      sentAt: now,
      createdAt: now,
    });
    if (reply.savedReplyId) {
      await tx
        .update(savedReplies)
        .set({ uses: sql`${savedReplies.uses} + 1` })
        .where(eq(savedReplies.id, reply.savedReplyId));
    }
    await logEvent(tx, reply.caseId, answer ? 'reply_sent' : 'csat_sent', reply.authorId, now, {
      replyId: reply.id,
      attempts: reply.attempts,
      ...(delivered.externalId ? { externalId: delivered.externalId } : {}),
    });
    await tx
      .insert(slackOutbox)
      .values({
        caseId: reply.caseId,
        key: `reply_sent:${reply.id}`,
        kind: 'reply_sent',
        refId: reply.id,
        createdAt: now,
      })
      .onConflictDoNothing();
    return true;
  });
}

/** A delivery that may work later: back in the queue after `retryAt`. */
export async function markRetry(
  db: Database,
  clock: Clock,
  reply: ReplyRow,
  reason: string,
  retryAt: Date,
  /**
   * The platform said when to come back (a 429 with Retry-After): a wait, not a failed attempt, so
   * it does not count toward giving up; the reply goes out once the limit lets it.
   */
  rateLimited = false,
  /** The attempt may have reached the platform (a timeout, a 5xx): the next one looks first. */
  outcomeUnknown = false,
): Promise<boolean> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(replies)
      .set({
        status: 'pending',
        sendAt: retryAt,
        leaseUntil: null,
        leaseToken: null,
        lastError: reason,
        updatedAt: now,
        ...(rateLimited ? { attempts: sql`greatest(${replies.attempts} - 1, 0)` } : {}),
        ...(outcomeUnknown ? { outcomeUnknown: true } : {}),
      })
      .where(held(reply))
      .returning({ id: replies.id });
    if (row) {
      await logEvent(tx, reply.caseId, 'reply_retry_scheduled', 'carebot', now, {
        replyId: reply.id,
        attempt: reply.attempts,
        reason,
        retryAt: retryAt.toISOString(),
        ...(rateLimited ? { rateLimited: true } : {}),
        ...(outcomeUnknown ? { outcomeUnknown: true } : {}),
      });
    }
    return Boolean(row);
  });
}

/** A delivery that will not work as it is: ⚠️ in Slack with the reason and a Retry button. */
export async function markFailed(
  db: Database,
  clock: Clock,
  reply: ReplyRow,
  reason: string,
): Promise<boolean> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [failed] = await tx
      .update(replies)
      .set({
        status: 'failed',
        leaseUntil: null,
        leaseToken: null,
        lastError: reason,
        failures: sql`${replies.failures} + 1`,
        updatedAt: now,
      })
      .where(held(reply))
      .returning();
    if (!failed) return false;
    await logEvent(tx, reply.caseId, 'reply_failed', 'carebot', now, { replyId: reply.id, reason });
    await tx
      .insert(slackOutbox)
      .values({
        caseId: reply.caseId,
        key: `reply_failed:${reply.id}:${failed.failures}`,
        kind: 'reply_failed',
        refId: reply.id,
        createdAt: now,
      })
      .onConflictDoNothing();
    return true;
  });
}

/**
 * A platform said to wait (a 429 with Retry-After): the source's other pending replies wait as
 * long too, instead of each being tried and refused in turn. They keep their spacing (a paced
 * incident statement stays paced), so the end of the wait is not a burst. Returns how many moved.
 */
export async function holdSource(db: Database, sourceKey: string, now: Date, until: Date): Promise<number> {
  const waitMs = Math.max(0, until.getTime() - now.getTime());
  const rows = await queryRows<{ id: number }>(
    db,
    sql`update ${replies}
        set send_at = greatest(send_at, ${ts(now)}) + ${waitMs}::bigint * interval '1 millisecond'
        where status = 'pending'
          and case_id in (select id from ${cases} where source_key = ${sourceKey})
        returning id`,
  );
  return rows.length;
}

/** A leased reply that was not tried (its source is waiting out a rate limit) goes back, uncounted. */
export async function deferReply(db: Database, reply: ReplyRow, until: Date): Promise<boolean> {
  const rows = await db
    .update(replies)
    .set({
      status: 'pending',
      sendAt: until,
      leaseUntil: null,
      leaseToken: null,
      attempts: sql`greatest(${replies.attempts} - 1, 0)`,
    })
    .where(held(reply))
    .returning({ id: replies.id });
  return rows.length > 0;
}
