import { and, count, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { caseEvents, cases, type ReplyRow, replies, slackOutbox } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { announce } from './case-store.js';
import type { Clock, Duration } from './clock.js';
import type { ToneFinding } from './tone.js';

/**
 * Reply approval for people in training (`approval.trainees_usergroup`): their reply waits in
 * `awaiting_approval`, which the delivery job never takes, until an approver approves it (as it is
 * or edited) or rejects it. Who may do that is care/permissions.ts's `approve_reply`; this module
 * only moves the reply, once: the update is conditional on the status, so two approvers pressing
 * at once, or Approve after Reject, change it once and the other is told who decided.
 */

/** The outbox key of a reply's approval message in the case thread. */
export const approvalKey = (replyId: number) => `approval:${replyId}`;

/**
 * Has the approval message of a reply (if it has one) rendered again in place, after its reply
 * changed: once per status, so approval and a later Cancel both show.
 */
export async function refreshApprovalMessage(tx: Tx, reply: ReplyRow, now: Date): Promise<void> {
  await tx.execute(sql`insert into ${slackOutbox} (case_id, key, kind, ref_id, created_at)
    select case_id, ${`refresh:${approvalKey(reply.id)}:${reply.status}`}, 'refresh', id, ${now.toISOString()}::timestamptz
    from ${slackOutbox} where key = ${approvalKey(reply.id)}
    on conflict do nothing`);
}

/** What the approval message shows besides the reply: who is asked, and what the tone check found. */
export interface ApprovalRequest {
  replyId: number;
  approversUsergroup: string | null;
  /** The tone check's messages on the draft, so approvers see them before they decide. */
  findings: string[];
}

/**
 * Queued in the same transaction as the reply itself: the event, and the approval message in the
 * case thread (an outbox row whose ref is the event, which carries the request).
 */
export async function requestApproval(
  tx: Tx,
  reply: ReplyRow,
  input: { findings: ToneFinding[]; approversUsergroup: string | null },
  now: Date,
): Promise<void> {
  const request: ApprovalRequest = {
    replyId: reply.id,
    approversUsergroup: input.approversUsergroup,
    findings: input.findings.map((f) => f.message),
  };
  const [event] = await tx
    .insert(caseEvents)
    .values({
      caseId: reply.caseId,
      type: 'reply_awaiting_approval',
      actor: reply.authorId,
      data: { ...request, rules: input.findings.map((f) => f.rule) },
      at: now,
    })
    .returning({ id: caseEvents.id });
  if (!event) return;
  await tx.insert(slackOutbox).values({
    caseId: reply.caseId,
    key: approvalKey(reply.id),
    kind: 'approval',
    refId: event.id,
    createdAt: now,
  });
}

/** What an approval message shows, read back for the Slack sync (undefined: nothing to post). */
export async function approvalView(
  db: Database,
  eventId: number,
): Promise<
  | { request: ApprovalRequest; reply: ReplyRow; platform: string; sourceKey: string; waiting: number }
  | undefined
> {
  const [event] = await db.select().from(caseEvents).where(eq(caseEvents.id, eventId));
  const data = event?.data as Partial<ApprovalRequest> | undefined;
  if (!data || typeof data.replyId !== 'number') return undefined;
  const [row] = await db
    .select({ reply: replies, platform: cases.platform, sourceKey: cases.sourceKey })
    .from(replies)
    .innerJoin(cases, eq(cases.id, replies.caseId))
    .where(eq(replies.id, data.replyId));
  if (!row) return undefined;
  return {
    request: {
      replyId: data.replyId,
      approversUsergroup: typeof data.approversUsergroup === 'string' ? data.approversUsergroup : null,
      findings: Array.isArray(data.findings) ? data.findings.filter((f) => typeof f === 'string') : [],
    },
    ...row,
    waiting: await draftsAwaitingApproval(db, row.reply.caseId),
  };
}

/** How many replies of a case wait for approval (the approval message flags more than one). */
export async function draftsAwaitingApproval(db: Database | Tx, caseId: number): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(replies)
    .where(and(eq(replies.caseId, caseId), eq(replies.status, 'awaiting_approval')));
  return Number(row?.n ?? 0);
}

export type ApprovalResult =
  | {
      kind: 'ok';
      reply: ReplyRow;
      /** The case's other drafts still waiting: approving one never sends another. */
      othersWaiting: number;
    }
  /** Someone decided first (or the author withdrew it): the reply's status now, and who. */
  | { kind: 'decided'; reply: ReplyRow }
  | { kind: 'case_resolved' }
  | { kind: 'not_found' };

/**
 * Approves a trainee's reply, as written or with `text` (Edit). The approver takes it on as if it
 * were theirs: the tone check's findings on the approved text hold it for them (Send anyway or
 * Cancel, as for their own replies); a clean text waits out the undo window from now, and its
 * Cancel is the approver's. A resolved case is not answered: reopen it first (Reject still works).
 */
export async function approveReply(
  db: Database,
  clock: Clock,
  input: {
    replyId: number;
    approverId: string;
    text?: string;
    findings: ToneFinding[];
    delay: Duration;
    /** The thread message telling the author; `edited` when the text was changed. */
    slackText: (reply: ReplyRow, edited: boolean) => string;
  },
): Promise<ApprovalResult> {
  const now = clock.now();
  const held = input.findings.length > 0;
  return decide(db, input.replyId, async (tx, current) => {
    const [caseRow] = await tx
      .select({ status: cases.status })
      .from(cases)
      .where(eq(cases.id, current.caseId));
    if (caseRow?.status === 'resolved') return { kind: 'case_resolved' };
    const edited = input.text !== undefined && input.text !== current.text;
    const [approved] = await tx
      .update(replies)
      .set({
        status: held ? 'held' : 'pending',
        reviewedBy: input.approverId,
        ...(edited ? { text: input.text } : {}),
        sendAt: new Date(now.getTime() + input.delay),
        updatedAt: now,
      })
      .where(and(eq(replies.id, current.id), eq(replies.status, 'awaiting_approval')))
      .returning();
    if (!approved) return { kind: 'decided', reply: current };
    await announce(tx, {
      caseId: approved.caseId,
      type: edited ? 'reply_edited_approved' : 'reply_approved',
      actor: input.approverId,
      at: now,
      data: {
        replyId: approved.id,
        authorId: approved.authorId,
        ...(held ? { findings: input.findings.map((f) => f.rule) } : {}),
      },
      slackText: input.slackText(approved, edited),
    });
    await refreshApprovalMessage(tx, approved, now);
    return { kind: 'ok', reply: approved, othersWaiting: await othersWaiting(tx, approved) };
  });
}

/** Rejects a trainee's reply, with the approver's note (optional): it never leaves. */
export async function rejectReply(
  db: Database,
  clock: Clock,
  input: { replyId: number; approverId: string; note: string; slackText: (reply: ReplyRow) => string },
): Promise<ApprovalResult> {
  const now = clock.now();
  return decide(db, input.replyId, async (tx, current) => {
    const [rejected] = await tx
      .update(replies)
      .set({ status: 'rejected', reviewedBy: input.approverId, updatedAt: now })
      .where(and(eq(replies.id, current.id), eq(replies.status, 'awaiting_approval')))
      .returning();
    if (!rejected) return { kind: 'decided', reply: current };
    await announce(tx, {
      caseId: rejected.caseId,
      type: 'reply_rejected',
      actor: input.approverId,
      at: now,
      data: {
        replyId: rejected.id,
        authorId: rejected.authorId,
        ...(input.note ? { note: input.note } : {}),
      },
      slackText: input.slackText(rejected),
    });
    await refreshApprovalMessage(tx, rejected, now);
    return { kind: 'ok', reply: rejected, othersWaiting: await othersWaiting(tx, rejected) };
  });
}

/**
 * Runs a decision on a reply locked for the transaction: a second approver's click waits for the
 * first to commit, then finds the reply decided.
 */
async function decide(
  db: Database,
  replyId: number,
  fn: (tx: Tx, current: ReplyRow) => Promise<ApprovalResult>,
): Promise<ApprovalResult> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(replies).where(eq(replies.id, replyId)).for('update');
    if (!current) return { kind: 'not_found' };
    if (current.status !== 'awaiting_approval') return { kind: 'decided', reply: current };
    return fn(tx, current);
  });
}

async function othersWaiting(tx: Tx, reply: ReplyRow): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(replies)
    .where(
      and(
        eq(replies.caseId, reply.caseId),
        eq(replies.status, 'awaiting_approval'),
        ne(replies.id, reply.id),
      ),
    );
  return Number(row?.n ?? 0);
}
