import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import {
  cases,
  incidentCases,
  messages,
  type ReplyRow,
  replies,
  type StatementBatchRow,
  slackThreads,
  statementBatches,
} from '../db/schema.js';
import { logEvent } from './case-store.js';
import type { Clock, Duration } from './clock.js';
import { logIncidentEvent } from './incidents.js';
import { capabilities } from './platforms.js';
import { queueReply } from './replies.js';
import { customerValues, fillTemplate } from './saved-replies.js';
import { checkTone, type ToneFinding, type ToneRules } from './tone.js';

/**
 * An incident's statement, sent to every linked open case in one action. Each case gets a normal
 * reply (filled in for its customer, tone-checked for its platform, logged in its event log, sent
 * by the delivery job), all sharing one undo window so one Cancel stops them all, and paced per
 * source so platform rate limits are respected.
 */

export interface StatementTarget {
  caseId: number;
  platform: string;
  sourceKey: string;
  /** The statement filled in for this case's customer. */
  text: string;
  /** The case's Slack thread (where the reply's ✅ goes). */
  channel: string;
}

export interface StatementPlan {
  send: StatementTarget[];
  /** The tone check would hold these (e.g. too long for X): they are left for a person to answer. */
  held: Array<{ caseId: number; platform: string; sourceKey: string; findings: ToneFinding[] }>;
  /** Linked open cases that cannot get it (not in Slack yet, a platform carebot cannot answer on). */
  skipped: Array<{ caseId: number; reason: string }>;
}

/** Who gets the statement, who would be held, who cannot get it: what the preview shows. */
export async function planStatement(
  db: Database,
  input: { incidentId: number; text: string; agentName: string; tone: ToneRules },
): Promise<StatementPlan> {
  const rows = await db
    .select({ case: cases, channel: slackThreads.channelId })
    .from(incidentCases)
    .innerJoin(cases, eq(cases.id, incidentCases.caseId))
    .leftJoin(slackThreads, eq(slackThreads.caseId, cases.id))
    .where(and(eq(incidentCases.incidentId, input.incidentId), eq(cases.status, 'open')))
    .orderBy(asc(cases.id));
  const firstAuthors = rows.length
    ? await db
        .selectDistinctOn([messages.caseId], {
          caseId: messages.caseId,
          authorName: messages.authorName,
          authorHandle: messages.authorHandle,
        })
        .from(messages)
        .where(
          and(
            inArray(
              messages.caseId,
              rows.map((r) => r.case.id),
            ),
            eq(messages.kind, 'inbound'),
          ),
        )
        .orderBy(messages.caseId, messages.id)
    : [];
  const authorOf = new Map(firstAuthors.map((a) => [a.caseId, a]));
  const plan: StatementPlan = { send: [], held: [], skipped: [] };
  for (const { case: c, channel } of rows) {
    if (!channel) {
      plan.skipped.push({ caseId: c.id, reason: 'not in Slack yet' });
      continue;
    }
    if (!capabilities(c.platform).reply) {
      plan.skipped.push({ caseId: c.id, reason: 'carebot cannot answer there; answer on the site' });
      continue;
    }
    const text = fillTemplate(input.text, {
      ...customerValues(authorOf.get(c.id) ?? { authorName: null, authorHandle: null }),
      agent_name: input.agentName,
      case_id: String(c.id),
    });
    const findings = checkTone(text, c.platform, input.tone);
    if (findings.length) {
      plan.held.push({ caseId: c.id, platform: c.platform, sourceKey: c.sourceKey, findings });
      continue;
    }
    plan.send.push({ caseId: c.id, platform: c.platform, sourceKey: c.sourceKey, text, channel });
  }
  return plan;
}

/**
 * When each reply of a batch may leave: at the end of the undo window, then spread so no source
 * gets more than `perMinute` a minute (each source in its own lane).
 */
export function paceBatch(targets: Array<{ sourceKey: string }>, windowEnd: Date, perMinute: number): Date[] {
  const seen = new Map<string, number>();
  return targets.map((t) => {
    const i = seen.get(t.sourceKey) ?? 0;
    seen.set(t.sourceKey, i + 1);
    return new Date(windowEnd.getTime() + Math.floor((i * 60_000) / perMinute));
  });
}

export type SendResult =
  | { kind: 'queued'; batch: StatementBatchRow; replies: ReplyRow[]; plan: StatementPlan }
  | { kind: 'duplicate'; batch: StatementBatchRow };

/** Queues the statement for every case in the plan, as one batch (once per `requestKey`). */
export async function sendStatement(
  db: Database,
  clock: Clock,
  input: {
    incidentId: number;
    userId: string;
    /** The statement as the lead approved it (before variables are filled in). */
    text: string;
    savedReplyId?: number | undefined;
    requestKey: string;
    delay: Duration;
    perMinute: number;
    plan: StatementPlan;
  },
): Promise<SendResult> {
  const now = clock.now();
  const windowEnd = new Date(now.getTime() + input.delay);
  // The batch and the audit line that says who sent it, together.
  const batch = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(statementBatches)
      .values({
        incidentId: input.incidentId,
        authorId: input.userId,
        savedReplyId: input.savedReplyId ?? null,
        text: input.text,
        requestKey: input.requestKey,
        sendAt: windowEnd,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      await logIncidentEvent(tx, input.incidentId, 'statement_sent', input.userId, now, {
        batchId: row.id,
        cases: input.plan.send.length,
        held: input.plan.held.length,
        skipped: input.plan.skipped.length,
        ...(input.savedReplyId ? { savedReplyId: input.savedReplyId } : {}),
      });
    }
    return row;
  });
  if (!batch) {
    const [existing] = await db
      .select()
      .from(statementBatches)
      .where(eq(statementBatches.requestKey, input.requestKey));
    if (!existing) throw new Error('statement batch neither created nor found');
    return { kind: 'duplicate', batch: existing };
  }
  const times = paceBatch(input.plan.send, windowEnd, input.perMinute);
  const queued: ReplyRow[] = [];
  for (const [i, target] of input.plan.send.entries()) {
    const result = await queueReply(db, clock, {
      caseId: target.caseId,
      authorId: input.userId,
      text: target.text,
      // One reply per case and batch, whatever Slack redelivers; `modal:` marks it as having no
      // Slack message of its own (its ✅ in the case thread quotes the text).
      origin: { channel: target.channel, ts: `modal:batch:${batch.id}:${target.caseId}` },
      findings: [],
      delay: input.delay,
      batchId: batch.id,
      sendAt: times[i] as Date,
      ...(input.savedReplyId ? { savedReplyId: input.savedReplyId } : {}),
    });
    if (result.kind === 'queued') queued.push(result.reply);
  }
  const skipped = [
    ...input.plan.held.map((h) => ({
      caseId: h.caseId,
      reason: `held by the tone check: ${h.findings.map((f) => f.message).join('; ')}`,
    })),
    ...input.plan.skipped,
  ];
  const [updated] = await db
    .update(statementBatches)
    .set({ queued: queued.length, skipped })
    .where(eq(statementBatches.id, batch.id))
    .returning();
  return { kind: 'queued', batch: updated ?? batch, replies: queued, plan: input.plan };
}

export type CancelBatchResult =
  | { kind: 'cancelled'; stopped: number; alreadySent: number; total: number }
  | { kind: 'not_author'; authorId: string }
  | { kind: 'not_found' };

/**
 * One Cancel for the whole batch: every reply of it that has not left yet is cancelled (inside the
 * undo window, that is all of them), each logged on its case.
 */
export async function cancelBatch(
  db: Database,
  clock: Clock,
  input: { batchId: number; userId: string },
): Promise<CancelBatchResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [batch] = await tx.select().from(statementBatches).where(eq(statementBatches.id, input.batchId));
    if (!batch) return { kind: 'not_found' };
    if (batch.authorId !== input.userId) return { kind: 'not_author', authorId: batch.authorId };
    const stopped = await tx
      .update(replies)
      .set({ status: 'cancelled', updatedAt: now })
      .where(and(eq(replies.batchId, batch.id), inArray(replies.status, ['held', 'pending'])))
      .returning({ id: replies.id, caseId: replies.caseId });
    for (const r of stopped) {
      await logEvent(tx, r.caseId, 'reply_cancelled', input.userId, now, {
        replyId: r.id,
        batchId: batch.id,
      });
    }
    await tx
      .update(statementBatches)
      .set({ cancelledAt: now, cancelledBy: input.userId })
      .where(eq(statementBatches.id, batch.id));
    await logIncidentEvent(tx, batch.incidentId, 'statement_cancelled', input.userId, now, {
      batchId: batch.id,
      stopped: stopped.length,
    });
    const [counts] = await tx
      .select({
        total: sql<number>`count(*)::int`,
        sent: sql<number>`count(*) filter (where ${replies.status} in ('sent', 'sending'))::int`,
      })
      .from(replies)
      .where(eq(replies.batchId, batch.id));
    return {
      kind: 'cancelled',
      stopped: stopped.length,
      alreadySent: Number(counts?.sent ?? 0),
      total: Number(counts?.total ?? 0),
    };
  });
}
