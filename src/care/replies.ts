import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import {
  type CaseRow,
  cases,
  messages,
  type ReplyRow,
  replies,
  savedReplies,
  slackOutbox,
  slackThreads,
} from '../db/schema.js';
import { type Tx, ts } from '../db/tx.js';
import { stopResponseClocks } from './case-clocks.js';
import { logEvent } from './case-store.js';
import type { Clock, Duration } from './clock.js';
import type { ToneFinding } from './tone.js';

/** The case whose Slack thread a message was written in. */
export async function caseOfThread(
  db: Database,
  channel: string,
  threadTs: string,
): Promise<CaseRow | undefined> {
  const [row] = await db
    .select({ case: cases })
    .from(slackThreads)
    .innerJoin(cases, eq(cases.id, slackThreads.caseId))
    .where(and(eq(slackThreads.channelId, channel), eq(slackThreads.threadTs, threadTs)));
  return row?.case;
}

/** Strips a leading `note:` (any case); returns undefined when the text is not a note. */
export function noteText(text: string): string | undefined {
  const match = /^\s*note:\s*/i.exec(text);
  return match ? text.slice(match[0].length) : undefined;
}

export interface SlackOrigin {
  channel: string;
  ts: string;
}

/** Keeps an internal note. The Slack message's channel and ts make it unique. */
export async function recordNote(
  db: Database,
  clock: Clock,
  input: { caseId: number; sourceKey: string; authorId: string; text: string; origin: SlackOrigin },
): Promise<{ duplicate: boolean }> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(messages)
      .values({
        caseId: input.caseId,
        kind: 'note',
        sourceKey: input.sourceKey,
        authorId: input.authorId,
        text: input.text,
        sentAt: now,
        createdAt: now,
        slackChannel: input.origin.channel,
        slackTs: input.origin.ts,
      })
      .onConflictDoNothing()
      .returning({ id: messages.id });
    if (!inserted) return { duplicate: true };
    await logEvent(tx, input.caseId, 'note', input.authorId, now, { messageId: inserted.id });
    return { duplicate: false };
  });
}

export type QueueResult =
  | { kind: 'queued'; reply: ReplyRow }
  | { kind: 'held'; reply: ReplyRow }
  | { kind: 'duplicate'; reply: ReplyRow | undefined };

/**
 * Queues a reply to the customer: held when the tone check found something, otherwise pending
 * until the undo window ends. Writing the same Slack message twice (a redelivered event) is a no-op.
 */
export async function queueReply(
  db: Database,
  clock: Clock,
  input: {
    caseId: number;
    authorId: string;
    text: string;
    origin: SlackOrigin;
    findings: ToneFinding[];
    delay: Duration;
    savedReplyId?: number;
    /** An incident statement batch: one Cancel stops all of its replies. */
    batchId?: number;
    /** When it may leave, if not at the end of the undo window (a batch paced for rate limits). */
    sendAt?: Date;
  },
): Promise<QueueResult> {
  const now = clock.now();
  const held = input.findings.length > 0;
  const result = await db.transaction(async (tx) => {
    const inReplyTo = await latestCustomerMessageId(tx, input.caseId);
    const [reply] = await tx
      .insert(replies)
      .values({
        caseId: input.caseId,
        status: held ? 'held' : 'pending',
        authorId: input.authorId,
        text: input.text,
        slackChannel: input.origin.channel,
        slackTs: input.origin.ts,
        position: positionOf(input.origin.ts, now),
        inReplyTo,
        savedReplyId: input.savedReplyId ?? null,
        batchId: input.batchId ?? null,
        sendAt: input.sendAt ?? new Date(now.getTime() + input.delay),
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!reply) return undefined;
    await logEvent(tx, input.caseId, held ? 'reply_held' : 'reply_queued', input.authorId, now, {
      replyId: reply.id,
      ...(held ? { findings: input.findings.map((f) => f.rule) } : {}),
      ...(input.savedReplyId ? { savedReplyId: input.savedReplyId } : {}),
      ...(input.batchId ? { batchId: input.batchId } : {}),
    });
    return reply;
  });
  if (!result) {
    const [existing] = await db
      .select()
      .from(replies)
      .where(and(eq(replies.slackChannel, input.origin.channel), eq(replies.slackTs, input.origin.ts)));
    return { kind: 'duplicate', reply: existing };
  }
  return { kind: held ? 'held' : 'queued', reply: result };
}

async function latestCustomerMessageId(tx: Tx, caseId: number): Promise<string | null> {
  const [latest] = await tx
    .select({ externalId: messages.externalId })
    .from(messages)
    .where(and(eq(messages.caseId, caseId), eq(messages.kind, 'inbound')))
    .orderBy(desc(messages.sentAt), desc(messages.id))
    .limit(1);
  return latest?.externalId ?? null;
}

/** A Slack ts is "seconds.micros" and orders messages; anything else (a modal) is ordered by now. */
export function positionOf(slackTs: string, now: Date): string {
  if (/^\d{1,12}\.\d{1,6}$/.test(slackTs)) return slackTs;
  return (now.getTime() / 1000).toFixed(6);
}

export type ReplyChange =
  | { kind: 'ok'; reply: ReplyRow }
  | { kind: 'not_author' }
  | { kind: 'too_late'; status: ReplyRow['status'] }
  | { kind: 'not_found' };

async function changeReply(
  db: Database,
  clock: Clock,
  input: {
    replyId: number;
    userId: string;
    from: ReplyRow['status'][];
    event: string;
    data?: Record<string, unknown>;
  },
  set: (now: Date) => Partial<typeof replies.$inferInsert>,
): Promise<ReplyChange> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [changed] = await tx
      .update(replies)
      .set({ ...set(now), updatedAt: now })
      .where(
        and(
          eq(replies.id, input.replyId),
          eq(replies.authorId, input.userId),
          inArray(replies.status, input.from),
        ),
      )
      .returning();
    if (changed) {
      await logEvent(tx, changed.caseId, input.event, input.userId, now, {
        replyId: changed.id,
        ...input.data,
      });
      return { kind: 'ok', reply: changed };
    }
    const [current] = await tx.select().from(replies).where(eq(replies.id, input.replyId));
    if (!current) return { kind: 'not_found' };
    if (current.authorId !== input.userId) return { kind: 'not_author' };
    return { kind: 'too_late', status: current.status };
  });
}

/** The author overrides the tone check: the reply goes into the undo window, recorded in the log. */
export function sendAnyway(
  db: Database,
  clock: Clock,
  input: { replyId: number; userId: string; delay: Duration; findings: string[] },
) {
  return changeReply(
    db,
    clock,
    { ...input, from: ['held'], event: 'reply_overridden', data: { findings: input.findings } },
    (now) => ({
      status: 'pending',
      overridden: input.findings,
      sendAt: new Date(now.getTime() + input.delay),
    }),
  );
}

/** Cancels a held reply, or a pending one still inside its undo window. */
export function cancelReply(db: Database, clock: Clock, input: { replyId: number; userId: string }) {
  return changeReply(db, clock, { ...input, from: ['held', 'pending'], event: 'reply_cancelled' }, () => ({
    status: 'cancelled',
  }));
}

/** Puts a failed reply back in the queue for another delivery attempt. */
export function retryReply(db: Database, clock: Clock, input: { replyId: number; userId: string }) {
  return changeReply(db, clock, { ...input, from: ['failed'], event: 'reply_retried' }, (now) => ({
    status: 'pending',
    attempts: 0,
    lastError: null,
    sendAt: now,
  }));
}

/**
 * The Slack message of a reply was edited: inside the window the edit is what will be sent. The
 * new text gets a fresh tone check: findings hold it, a clean text releases a held reply.
 */
export async function editReply(
  db: Database,
  clock: Clock,
  input: { origin: SlackOrigin; text: string; findings: ToneFinding[]; delay: Duration },
): Promise<
  | { kind: 'edited'; reply: ReplyRow; changed: boolean; wasHeld: boolean }
  | { kind: 'too_late'; reply: ReplyRow }
  | { kind: 'not_found' }
> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(replies)
      .where(and(eq(replies.slackChannel, input.origin.channel), eq(replies.slackTs, input.origin.ts)))
      .for('update');
    if (!current) return { kind: 'not_found' };
    if (current.status !== 'held' && current.status !== 'pending')
      return { kind: 'too_late', reply: current };
    // Slack also sends message_changed for unfurls and other changes that leave the text alone.
    if (current.text === input.text)
      return { kind: 'edited', reply: current, changed: false, wasHeld: false };
    const held = input.findings.length > 0;
    const [edited] = await tx
      .update(replies)
      .set({
        text: input.text,
        status: held ? 'held' : 'pending',
        // A reply released from hold by an edit gets a full undo window again.
        sendAt: current.status === 'held' && !held ? new Date(now.getTime() + input.delay) : current.sendAt,
        updatedAt: now,
      })
      .where(eq(replies.id, current.id))
      .returning();
    if (!edited) return { kind: 'not_found' };
    await logEvent(tx, current.caseId, held ? 'reply_edited_held' : 'reply_edited', current.authorId, now, {
      replyId: current.id,
      ...(held ? { findings: input.findings.map((f) => f.rule) } : {}),
    });
    return { kind: 'edited', reply: edited, changed: true, wasHeld: current.status === 'held' };
  });
}

/** The Slack message of a reply was deleted: it must not go out. */
export async function cancelBySlackMessage(
  db: Database,
  clock: Clock,
  origin: SlackOrigin,
): Promise<ReplyRow | undefined> {
  const [current] = await db
    .select()
    .from(replies)
    .where(and(eq(replies.slackChannel, origin.channel), eq(replies.slackTs, origin.ts)));
  if (!current) return undefined;
  const result = await cancelReply(db, clock, { replyId: current.id, userId: current.authorId });
  return result.kind === 'ok' ? result.reply : undefined;
}

// ---- delivery ----

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
  delivered: { externalId?: string | undefined; url?: string | undefined },
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
        updatedAt: now,
      })
      .where(held(reply))
      .returning();
    if (!sent) return false;
    const [caseRow] = await tx
      .update(cases)
      .set({ lastReplyAt: now, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(eq(cases.id, reply.caseId))
      .returning();
    await stopResponseClocks(tx, reply.caseId, now);
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
    await logEvent(tx, reply.caseId, 'reply_sent', reply.authorId, now, {
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
