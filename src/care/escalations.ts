import { and, eq, isNull, sql, TransactionRollbackError } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { caseEvents, cases, type EscalationRow, escalations, slackOutbox } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { announce, getCase, logEvent } from './case-store.js';
import type { Clock } from './clock.js';

export type EscalateResult =
  | { kind: 'escalated'; escalationId: number }
  | { kind: 'duplicate' }
  | { kind: 'not_found' };

/** Records an escalation to a team and queues its mention in the case's thread. */
export async function escalateCase(
  db: Database,
  clock: Clock,
  input: {
    caseId: number;
    teamKey: string;
    note: string;
    userId: string;
    requestKey?: string;
    urgency?: 'normal' | 'urgent';
  },
): Promise<EscalateResult> {
  const now = clock.now();
  try {
    return await escalateOnce(db, now, input);
  } catch (err) {
    if (err instanceof TransactionRollbackError) return { kind: 'duplicate' };
    throw err;
  }
}

function escalateOnce(
  db: Database,
  now: Date,
  input: {
    caseId: number;
    teamKey: string;
    note: string;
    userId: string;
    requestKey?: string;
    urgency?: 'normal' | 'urgent';
  },
): Promise<EscalateResult> {
  return db.transaction(async (tx) => {
    const [bumped] = await tx
      .update(cases)
      .set({ cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(eq(cases.id, input.caseId))
      .returning({ id: cases.id });
    if (!bumped) return { kind: 'not_found' };
    const [escalation] = await tx
      .insert(escalations)
      .values({
        caseId: input.caseId,
        teamKey: input.teamKey,
        note: input.note,
        requestedBy: input.userId,
        requestKey: input.requestKey ?? null,
        urgency: input.urgency ?? 'normal',
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: escalations.id });
    // The same request again (Slack resending a submission): keep the first, undo the card bump.
    if (!escalation) return tx.rollback();
    await logEvent(tx, input.caseId, 'escalated', input.userId, now, {
      escalationId: escalation.id,
      team: input.teamKey,
    });
    await tx.insert(slackOutbox).values({
      caseId: input.caseId,
      key: `escalation:${escalation.id}`,
      kind: 'escalation',
      refId: escalation.id,
      createdAt: now,
    });
    return { kind: 'escalated', escalationId: escalation.id };
  });
}

export async function getEscalation(db: Database | Tx, id: number): Promise<EscalationRow | undefined> {
  const [row] = await db.select().from(escalations).where(eq(escalations.id, id));
  return row;
}

export type AckResult =
  | { kind: 'acknowledged'; escalation: EscalationRow }
  | { kind: 'already'; escalation: EscalationRow }
  | { kind: 'not_found' };

/** A team member says "we're on it"; the first acknowledgement counts. */
export async function acknowledgeEscalation(
  db: Database,
  clock: Clock,
  escalationId: number,
  userId: string,
): Promise<AckResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [acked] = await tx
      .update(escalations)
      .set({ acknowledgedAt: now, acknowledgedBy: userId })
      .where(and(eq(escalations.id, escalationId), isNull(escalations.acknowledgedAt)))
      .returning();
    if (acked) {
      await tx.insert(caseEvents).values({
        caseId: acked.caseId,
        type: 'escalation_acknowledged',
        actor: userId,
        data: { escalationId, team: acked.teamKey },
        at: now,
      });
      await tx
        .update(cases)
        .set({ cardVersion: sql`${cases.cardVersion} + 1` })
        .where(eq(cases.id, acked.caseId));
      return { kind: 'acknowledged', escalation: acked };
    }
    const current = await getEscalation(tx, escalationId);
    return current ? { kind: 'already', escalation: current } : { kind: 'not_found' };
  });
}

export type AnswerResult = { kind: 'answered'; escalation: EscalationRow } | { kind: 'not_found' };

/** The team's answer: kept in the event log and shown to the owner in the thread. */
export async function answerEscalation(
  db: Database,
  clock: Clock,
  input: {
    escalationId: number;
    userId: string;
    answer: string;
    /** The thread message, given the case owner (Slack formatting is the caller's). */
    slackText: (ownerId: string | null) => string;
  },
): Promise<AnswerResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [answered] = await tx
      .update(escalations)
      .set({
        answer: input.answer,
        answeredAt: now,
        answeredBy: input.userId,
        acknowledgedAt: sql`coalesce(${escalations.acknowledgedAt}, ${now.toISOString()}::timestamptz)`,
        acknowledgedBy: sql`coalesce(${escalations.acknowledgedBy}, ${input.userId})`,
      })
      .where(eq(escalations.id, input.escalationId))
      .returning();
    if (!answered) return { kind: 'not_found' };
    const c = await getCase(tx, answered.caseId);
    await announce(tx, {
      caseId: answered.caseId,
      type: 'escalation_answered',
      actor: input.userId,
      at: now,
      data: { escalationId: answered.id, team: answered.teamKey, answer: input.answer },
      slackText: input.slackText(c?.ownerId ?? null),
    });
    await tx
      .update(cases)
      .set({ cardVersion: sql`${cases.cardVersion} + 1` })
      .where(eq(cases.id, answered.caseId));
    return { kind: 'answered', escalation: answered };
  });
}

/** Teams a case is still waiting on (escalated, not answered), oldest first. */
export async function waitingOn(
  db: Database | Tx,
  caseId: number,
): Promise<Array<{ teamKey: string; since: Date }>> {
  const rows = await db
    .select({ teamKey: escalations.teamKey, since: escalations.createdAt })
    .from(escalations)
    .where(and(eq(escalations.caseId, caseId), isNull(escalations.answeredAt)))
    .orderBy(escalations.createdAt);
  const seen = new Set<string>();
  return rows.filter((r) => {
    if (seen.has(r.teamKey)) return false;
    seen.add(r.teamKey);
    return true;
  });
}
