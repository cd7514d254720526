import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import {
  type CaseRow,
  caseEvents,
  cases,
  type EscalationRow,
  escalations,
  slackOutbox,
} from '../db/schema.js';
import { getCase, type Tx } from './cases.js';
import type { Clock } from './clock.js';

/**
 * Logs an event and posts its `slackText` in the case's thread (through the Slack outbox), for the
 * things people in the thread should hear about: an answer, a take-over, a case let go.
 */
export async function announce(
  tx: Tx,
  input: {
    caseId: number;
    type: string;
    actor: string;
    at: Date;
    data?: Record<string, unknown>;
    slackText: string;
  },
): Promise<void> {
  const [event] = await tx
    .insert(caseEvents)
    .values({
      caseId: input.caseId,
      type: input.type,
      actor: input.actor,
      data: { ...input.data, slackText: input.slackText },
      at: input.at,
    })
    .returning({ id: caseEvents.id });
  if (!event) return;
  await tx.insert(slackOutbox).values({
    caseId: input.caseId,
    key: `event:${event.id}`,
    kind: 'event',
    refId: event.id,
    createdAt: input.at,
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

export type TakeOverResult =
  | { kind: 'taken_over'; previousOwner: string | null; case: CaseRow }
  | { kind: 'already_owner' }
  | { kind: 'resolved' }
  | { kind: 'not_found' };

/** Takes a case from its owner (after a confirmation in Slack); the previous owner is told. */
export async function takeOver(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
  mention: (id: string) => string,
): Promise<TakeOverResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    if (current.status === 'resolved') return { kind: 'resolved' };
    if (current.ownerId === userId) return { kind: 'already_owner' };
    const [taken] = await tx
      .update(cases)
      .set({ ownerId: userId, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(eq(cases.id, caseId))
      .returning();
    if (!taken) return { kind: 'not_found' };
    await announce(tx, {
      caseId,
      type: 'taken_over',
      actor: userId,
      at: now,
      data: { from: current.ownerId },
      slackText: current.ownerId
        ? `:arrows_counterclockwise: ${mention(current.ownerId)} ${mention(userId)} took over this case.`
        : `:raising_hand: ${mention(userId)} took this case.`,
    });
    return { kind: 'taken_over', previousOwner: current.ownerId, case: taken };
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
