import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type CaseRow, escalations, type MessageRow, messages } from '../db/schema.js';
import { getCase } from './case-store.js';
import { type CustomerSummary, customerSummary } from './customers.js';
import { waitingOn } from './escalations.js';
import { incidentOfCase } from './incidents.js';

/** What a case's card shows. */
export interface CaseView {
  case: CaseRow;
  firstMessage: MessageRow;
  messageCount: number;
  escalatedTo: string[];
  /** Teams still to answer, with the time the case started waiting on them. */
  waiting: Array<{ teamKey: string; since: Date }>;
  /** The incident the case is part of, and whether any is open (for the card's Link button). */
  incident?: Awaited<ReturnType<typeof incidentOfCase>> | undefined;
  /** The customer's note, VIP flag and earlier cases (none for cases opened before #22). */
  customer?: CustomerSummary | undefined;
}

export async function loadCaseView(db: Database, caseId: number): Promise<CaseView | undefined> {
  const row = await getCase(db, caseId);
  if (!row) return undefined;
  const [first] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.caseId, caseId), eq(messages.kind, 'inbound')))
    .orderBy(asc(messages.id))
    .limit(1);
  if (!first) return undefined;
  const [count] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(messages)
    .where(and(eq(messages.caseId, caseId), eq(messages.kind, 'inbound')));
  const teams = await db
    .selectDistinct({ teamKey: escalations.teamKey })
    .from(escalations)
    .where(eq(escalations.caseId, caseId));
  return {
    case: row,
    firstMessage: first,
    messageCount: count?.n ?? 1,
    escalatedTo: teams.map((t) => t.teamKey).sort(),
    waiting: await waitingOn(db, caseId),
    incident: await incidentOfCase(db, caseId),
    customer: await customerSummary(db, row),
  };
}
