import { and, desc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type CaseRow, cases, messages, type ReplyRow, replies, slackThreads } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { refreshApprovalMessage, requestApproval } from './approval.js';
import { logEvent } from './case-store.js';
import type { Clock, Duration } from './clock.js';
import type { ToneFinding } from './tone.js';

/**
 * Replies as agents write them in a case's Slack thread: internal notes, the reply queued behind its
 * undo window (or held by the tone check), and what its author does to it there: send anyway,
 * cancel, retry, edit, delete. Delivering it is reply-delivery.ts's job.
 */

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
  | { kind: 'awaiting_approval'; reply: ReplyRow }
  | { kind: 'duplicate'; reply: ReplyRow | undefined };

/**
 * Queues a reply to the customer: held when the tone check found something, otherwise pending
 * until the undo window ends; a trainee's (`approval`) waits for an approver whatever the tone
 * check says (care/approval.ts). Writing the same Slack message twice (a redelivered event) is a
 * no-op.
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
    /** Written by a person in training: it waits for an approver of this group. */
    approval?: { approversUsergroup: string | null };
  },
): Promise<QueueResult> {
  const now = clock.now();
  const held = input.findings.length > 0;
  const status = input.approval ? 'awaiting_approval' : held ? 'held' : 'pending';
  const result = await db.transaction(async (tx) => {
    const inReplyTo = await latestCustomerMessageId(tx, input.caseId);
    const [reply] = await tx
      .insert(replies)
      .values({
        caseId: input.caseId,
        status,
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
    if (input.approval) {
      await requestApproval(
        tx,
        reply,
        { findings: input.findings, approversUsergroup: input.approval.approversUsergroup },
        now,
      );
      return reply;
    }
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
  return { kind: status === 'pending' ? 'queued' : status, reply: result };
}

/** The platform id of the customer's latest message in a case (what a reply answers). */
export async function latestCustomerMessageId(tx: Tx, caseId: number): Promise<string | null> {
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
    /**
     * Who may: `author` is whoever answers for the reply (its approver once a trainee's reply was
     * approved); `author_or_approver` lets either stop or retry it, which never sends unapproved text.
     */
    who?: 'author' | 'author_or_approver';
  },
  set: (now: Date) => Partial<typeof replies.$inferInsert>,
): Promise<ReplyChange> {
  const now = clock.now();
  const mayAct: SQL | undefined =
    input.who === 'author_or_approver'
      ? or(eq(replies.authorId, input.userId), eq(replies.reviewedBy, input.userId))
      : sql`coalesce(${replies.reviewedBy}, ${replies.authorId}) = ${input.userId}`;
  const mayActOn = (row: ReplyRow) =>
    input.who === 'author_or_approver'
      ? row.authorId === input.userId || row.reviewedBy === input.userId
      : (row.reviewedBy ?? row.authorId) === input.userId;
  return db.transaction(async (tx) => {
    const [changed] = await tx
      .update(replies)
      .set({ ...set(now), updatedAt: now })
      .where(and(eq(replies.id, input.replyId), mayAct, inArray(replies.status, input.from)))
      .returning();
    if (changed) {
      await logEvent(tx, changed.caseId, input.event, input.userId, now, {
        replyId: changed.id,
        ...input.data,
      });
      await refreshApprovalMessage(tx, changed, now);
      return { kind: 'ok', reply: changed };
    }
    const [current] = await tx.select().from(replies).where(eq(replies.id, input.replyId));
    if (!current) return { kind: 'not_found' };
    if (!mayActOn(current)) return { kind: 'not_author' };
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

/**
 * Cancels a held reply, a pending one still inside its undo window, or a trainee's draft still
 * waiting for approval (withdrawn). A trainee's approved reply may be stopped by its author or
 * its approver.
 */
export function cancelReply(db: Database, clock: Clock, input: { replyId: number; userId: string }) {
  return changeReply(
    db,
    clock,
    {
      ...input,
      from: ['held', 'pending', 'awaiting_approval'],
      event: 'reply_cancelled',
      who: 'author_or_approver',
    },
    () => ({ status: 'cancelled' }),
  );
}

/** Puts a failed reply back in the queue for another delivery attempt (its text as approved). */
export function retryReply(db: Database, clock: Clock, input: { replyId: number; userId: string }) {
  return changeReply(
    db,
    clock,
    { ...input, from: ['failed'], event: 'reply_retried', who: 'author_or_approver' },
    (now) => ({
      status: 'pending',
      attempts: 0,
      lastError: null,
      sendAt: now,
    }),
  );
}

/**
 * The Slack message of a reply was edited: inside the window the edit is what will be sent. The
 * new text gets a fresh tone check: findings hold it, a clean text releases a held reply. A
 * trainee's reply is `locked`: what waits for approval, or was approved, is what leaves.
 */
export async function editReply(
  db: Database,
  clock: Clock,
  input: { origin: SlackOrigin; text: string; findings: ToneFinding[]; delay: Duration },
): Promise<
  | { kind: 'edited'; reply: ReplyRow; changed: boolean; wasHeld: boolean }
  | { kind: 'too_late'; reply: ReplyRow }
  | { kind: 'locked'; reply: ReplyRow }
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
    const underApproval = current.status === 'awaiting_approval' || current.reviewedBy !== null;
    if (underApproval && current.text !== input.text) return { kind: 'locked', reply: current };
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
