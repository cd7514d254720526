import { eq, inArray, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { cases, type IncidentRow, incidentCases } from '../db/schema.js';
import { type Tx, ts } from '../db/tx.js';
import { logEvent } from './case-store.js';
import type { Clock } from './clock.js';
import { getIncident, type IncidentTexts, openIncidents, postInThread, refreshMessage } from './incidents.js';

/** Cases joining an incident: by hand from a case's card, or by the incident's keywords. */

export type LinkResult =
  | { kind: 'linked'; incident: IncidentRow }
  | { kind: 'already'; incident: IncidentRow }
  | { kind: 'other_incident'; incident: IncidentRow }
  | { kind: 'incident_resolved' }
  | { kind: 'not_found' };

/** Links a case to an incident by hand (the card's button); its card shows the incident. */
export async function linkCase(
  db: Database,
  clock: Clock,
  input: { incidentId: number; caseId: number; userId: string; texts: IncidentTexts },
): Promise<LinkResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const incident = await getIncident(tx, input.incidentId);
    const [caseRow] = await tx.select({ id: cases.id }).from(cases).where(eq(cases.id, input.caseId));
    if (!incident || !caseRow) return { kind: 'not_found' };
    if (incident.status === 'resolved') return { kind: 'incident_resolved' };
    const linked = await insertLinks(tx, incident, [input.caseId], input.userId, now);
    if (linked.length === 0) {
      const [current] = await tx
        .select({ incidentId: incidentCases.incidentId })
        .from(incidentCases)
        .where(eq(incidentCases.caseId, input.caseId));
      const other = current ? await getIncident(tx, current.incidentId) : undefined;
      if (other && other.id !== incident.id) return { kind: 'other_incident', incident: other };
      return { kind: 'already', incident };
    }
    await refreshMessage(tx, incident, input.texts, now);
    return { kind: 'linked', incident };
  });
}

async function insertLinks(
  tx: Tx,
  incident: IncidentRow,
  caseIds: number[],
  userId: string,
  now: Date,
): Promise<number[]> {
  if (caseIds.length === 0) return [];
  const rows = await tx
    .insert(incidentCases)
    .values(caseIds.map((caseId) => ({ incidentId: incident.id, caseId, linkedBy: userId, linkedAt: now })))
    .onConflictDoNothing()
    .returning({ caseId: incidentCases.caseId });
  const linked = rows.map((r) => r.caseId);
  if (linked.length === 0) return [];
  await tx
    .update(cases)
    .set({ cardVersion: sql`${cases.cardVersion} + 1` })
    .where(inArray(cases.id, linked));
  for (const caseId of linked) {
    await logEvent(tx, caseId, 'incident_linked', userId, now, {
      incidentId: incident.id,
      title: incident.title,
    });
  }
  return linked;
}

/** Whole-word, case-insensitive match of any keyword (a keyword may be several words). */
export function matchesKeywords(text: string, keywords: string[]): boolean {
  const lower = text.toLowerCase().replace(/’/g, "'");
  return keywords.some((k) => {
    const escaped = k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, 'u').test(lower);
  });
}

/**
 * Links open cases that match an open incident's keywords: those opened since `lookbackMs` before
 * the incident and not yet in an incident. One thread note per incident and round says which.
 * Returns true when anything was linked.
 */
export async function autoLink(
  db: Database,
  now: Date,
  input: { lookbackMs: number; texts: IncidentTexts; note: (caseIds: number[]) => { text: string } },
): Promise<boolean> {
  let any = false;
  for (const incident of await openIncidents(db)) {
    if (incident.keywords.length === 0) continue;
    const since = new Date(incident.openedAt.getTime() - input.lookbackMs);
    const candidates = await queryRows<{ case_id: number; text: string }>(
      db,
      sql`select m.case_id, m.text from messages m
          join cases c on c.id = m.case_id
          where c.status = 'open' and c.opened_at >= ${ts(since)} and m.kind = 'inbound'
            and not exists (select 1 from ${incidentCases} ic where ic.case_id = c.id)
          order by m.case_id`,
    );
    const ids = [
      ...new Set(
        candidates.filter((c) => matchesKeywords(c.text, incident.keywords)).map((c) => Number(c.case_id)),
      ),
    ];
    if (ids.length === 0) continue;
    await db.transaction(async (tx) => {
      const linked = await insertLinks(tx, incident, ids, 'carebot', now);
      if (linked.length === 0) return;
      any = true;
      await refreshMessage(tx, incident, input.texts, now);
      await postInThread(tx, incident, `autolink:${now.toISOString()}:${linked[0]}`, input.note(linked), now);
    });
  }
  return any;
}
