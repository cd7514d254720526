import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type CaseRow, caseEvents, cases, slackOutbox } from '../db/schema.js';
import type { Tx } from '../db/tx.js';

/**
 * Reading a case and writing its event log: the pieces every part of the case lifecycle shares
 * (inbound, ownership, lifecycle, escalations, replies, incidents).
 */

export async function getCase(db: Database | Tx, caseId: number): Promise<CaseRow | undefined> {
  const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
  return row;
}

export async function logEvent(
  tx: Tx,
  caseId: number,
  type: string,
  actor: string,
  at: Date,
  data: Record<string, unknown> = {},
): Promise<void> {
  await tx.insert(caseEvents).values({ caseId, type, actor, data, at });
}

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
