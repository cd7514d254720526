import { and, asc, desc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import {
  cases,
  crisisAlerts,
  type IncidentRow,
  incidentCases,
  incidentEvents,
  incidents,
  savedReplies,
} from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { queueChannelMessage } from './channel-messages.js';
import type { Clock } from './clock.js';

/**
 * Incidents: one problem that many customers write about, with a lead, an approved holding
 * statement (a saved reply), a status and its own Slack thread. Cases join an incident by a button
 * on their card or by the incident's keywords; a case belongs to one incident at most.
 */

export type IncidentStatus = IncidentRow['status'];
export const INCIDENT_STATUSES: IncidentStatus[] = ['investigating', 'identified', 'monitoring', 'resolved'];

export interface IncidentSummary {
  incident: IncidentRow;
  statement: { id: number; title: string; text: string } | undefined;
  linked: number;
  /** Linked cases still open, by platform and source. */
  openByPlatform: Array<{ platform: string; sourceKey: string; n: number }>;
}

/** How the incident's Slack message and thread posts are rendered (Slack formatting is the caller's). */
export interface IncidentTexts {
  message: (summary: IncidentSummary) => { text: string; blocks: unknown[] };
}

export const incidentKey = (id: number) => `incident:${id}`;

/** Writes the incident's audit trail: what was done, by whom (a Slack user id or `carebot`). */
export async function logIncidentEvent(
  db: Database | Tx,
  incidentId: number,
  type: 'opened' | 'lead_changed' | 'resolved' | 'statement_sent' | 'statement_cancelled',
  actor: string,
  at: Date,
  data: Record<string, unknown> = {},
): Promise<void> {
  await db.insert(incidentEvents).values({ incidentId, type, actor, data, at });
}

export async function getIncident(db: Database | Tx, id: number): Promise<IncidentRow | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.id, id));
  return row;
}

export function openIncidents(db: Database | Tx): Promise<IncidentRow[]> {
  return db.select().from(incidents).where(ne(incidents.status, 'resolved')).orderBy(asc(incidents.id));
}

export async function summarize(db: Database | Tx, incident: IncidentRow): Promise<IncidentSummary> {
  const [statement] = incident.savedReplyId
    ? await db
        .select({ id: savedReplies.id, title: savedReplies.title, text: savedReplies.text })
        .from(savedReplies)
        .where(and(eq(savedReplies.id, incident.savedReplyId), isNull(savedReplies.deletedAt)))
    : [];
  const rows = await db
    .select({
      platform: cases.platform,
      sourceKey: cases.sourceKey,
      status: cases.status,
      n: sql<number>`count(*)::int`,
    })
    .from(incidentCases)
    .innerJoin(cases, eq(cases.id, incidentCases.caseId))
    .where(eq(incidentCases.incidentId, incident.id))
    .groupBy(cases.platform, cases.sourceKey, cases.status);
  return {
    incident,
    statement,
    linked: rows.reduce((sum, r) => sum + Number(r.n), 0),
    openByPlatform: rows
      .filter((r) => r.status === 'open')
      .map((r) => ({ platform: r.platform, sourceKey: r.sourceKey, n: Number(r.n) })),
  };
}

/** Brings the incident's Slack message up to date (a new version of it, posted by the sync). */
export async function refreshMessage(
  tx: Tx,
  incident: IncidentRow,
  texts: IncidentTexts,
  now: Date,
): Promise<void> {
  const [bumped] = await tx
    .update(incidents)
    .set({ version: sql`${incidents.version} + 1`, updatedAt: now })
    .where(eq(incidents.id, incident.id))
    .returning();
  if (!bumped) return;
  await queueChannelMessage(tx, {
    key: `${incidentKey(bumped.id)}:v${bumped.version}`,
    channelId: bumped.channelId,
    replacesKey: incidentKey(bumped.id),
    ...texts.message(await summarize(tx, bumped)),
    now,
  });
}

/** A message in the incident's thread, once per key. */
export async function postInThread(
  db: Database | Tx,
  incident: Pick<IncidentRow, 'id' | 'channelId'>,
  key: string,
  content: { text: string; blocks?: unknown[] },
  now: Date,
): Promise<boolean> {
  return queueChannelMessage(db, {
    key: `${incidentKey(incident.id)}:${key}`,
    channelId: incident.channelId,
    threadKey: incidentKey(incident.id),
    ...content,
    now,
  });
}

export type OpenResult =
  | { kind: 'opened'; incident: IncidentRow }
  | { kind: 'duplicate'; incident: IncidentRow };

/**
 * Opens an incident and queues its message (the parent of its thread). `requestKey` names what
 * asked for it, so the same alert button pressed twice, or a redelivered command, opens one.
 */
export async function openIncident(
  db: Database,
  clock: Clock,
  input: {
    title: string;
    userId: string;
    requestKey: string;
    channelId: string;
    alertId?: number | undefined;
    keywords?: string[] | undefined;
    texts: IncidentTexts;
  },
): Promise<OpenResult> {
  const now = clock.now();
  const opened = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(incidents)
      .values({
        title: input.title,
        leadId: input.userId,
        keywords: normalizeKeywords(input.keywords ?? []),
        channelId: input.channelId,
        alertId: input.alertId ?? null,
        requestKey: input.requestKey,
        createdBy: input.userId,
        openedAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return undefined;
    await logIncidentEvent(tx, row.id, 'opened', input.userId, now, {
      lead: row.leadId,
      ...(input.alertId ? { alertId: input.alertId } : {}),
    });
    if (input.alertId) {
      await tx.update(crisisAlerts).set({ incidentId: row.id }).where(eq(crisisAlerts.id, input.alertId));
    }
    await queueChannelMessage(tx, {
      key: incidentKey(row.id),
      channelId: row.channelId,
      ...input.texts.message(await summarize(tx, row)),
      now,
    });
    return row;
  });
  if (opened) return { kind: 'opened', incident: opened };
  const [existing] = await db.select().from(incidents).where(eq(incidents.requestKey, input.requestKey));
  if (!existing) throw new Error('incident neither opened nor found');
  return { kind: 'duplicate', incident: existing };
}

export function normalizeKeywords(words: string[]): string[] {
  return [...new Set(words.map((w) => w.trim().toLowerCase()).filter((w) => w.length >= 2))].slice(0, 20);
}

export type IncidentChange = Partial<{
  title: string;
  status: IncidentStatus;
  leadId: string;
  savedReplyId: number | null;
  keywords: string[];
}>;

export type UpdateResult =
  | { kind: 'updated'; incident: IncidentRow; before: IncidentRow }
  | { kind: 'resolved_already' }
  | { kind: 'not_found' };

/** Changes an incident (lead, status, statement, keywords). Resolving is for `resolveIncident`. */
export async function updateIncident(
  db: Database,
  clock: Clock,
  input: { incidentId: number; userId: string; change: IncidentChange; texts: IncidentTexts },
): Promise<UpdateResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(incidents)
      .where(eq(incidents.id, input.incidentId))
      .for('update');
    if (!before) return { kind: 'not_found' };
    if (before.status === 'resolved') return { kind: 'resolved_already' };
    const change = { ...input.change };
    if (change.keywords) change.keywords = normalizeKeywords(change.keywords);
    if (change.status === 'resolved') delete change.status;
    const [updated] = await tx
      .update(incidents)
      .set({ ...change, updatedAt: now })
      .where(eq(incidents.id, before.id))
      .returning();
    if (!updated) return { kind: 'not_found' };
    if (updated.leadId !== before.leadId) {
      await logIncidentEvent(tx, updated.id, 'lead_changed', input.userId, now, {
        from: before.leadId,
        to: updated.leadId,
      });
    }
    await refreshMessage(tx, updated, input.texts, now);
    return { kind: 'updated', incident: updated, before };
  });
}

export type ResolveIncidentResult =
  | { kind: 'resolved'; incident: IncidentRow; openCases: number }
  | { kind: 'resolved_already' }
  | { kind: 'not_found' };

/**
 * Resolves an incident and asks its lead, in the thread, to follow up with every linked customer
 * (`prompt` renders that message, given how many linked cases are still open).
 */
export async function resolveIncident(
  db: Database,
  clock: Clock,
  input: {
    incidentId: number;
    userId: string;
    texts: IncidentTexts;
    prompt: (incident: IncidentRow, summary: IncidentSummary) => { text: string; blocks: unknown[] };
  },
): Promise<ResolveIncidentResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [resolved] = await tx
      .update(incidents)
      .set({ status: 'resolved', resolvedAt: now, resolvedBy: input.userId, updatedAt: now })
      .where(and(eq(incidents.id, input.incidentId), ne(incidents.status, 'resolved')))
      .returning();
    if (!resolved)
      return (await getIncident(tx, input.incidentId)) ? { kind: 'resolved_already' } : { kind: 'not_found' };
    await logIncidentEvent(tx, resolved.id, 'resolved', input.userId, now);
    await refreshMessage(tx, resolved, input.texts, now);
    const summary = await summarize(tx, resolved);
    await postInThread(tx, resolved, 'follow-up', input.prompt(resolved, summary), now);
    const openCases = summary.openByPlatform.reduce((s, p) => s + p.n, 0);
    return { kind: 'resolved', incident: resolved, openCases };
  });
}

/** The incident a case is linked to, and whether any incident is open (for the card). */
export async function incidentOfCase(
  db: Database | Tx,
  caseId: number,
): Promise<{ linked?: { id: number; title: string; status: IncidentStatus }; anyOpen: boolean }> {
  const [linked] = await db
    .select({ id: incidents.id, title: incidents.title, status: incidents.status })
    .from(incidentCases)
    .innerJoin(incidents, eq(incidents.id, incidentCases.incidentId))
    .where(eq(incidentCases.caseId, caseId));
  const [open] = await db
    .select({ id: incidents.id })
    .from(incidents)
    .where(ne(incidents.status, 'resolved'))
    .limit(1);
  return { ...(linked ? { linked } : {}), anyOpen: Boolean(open) };
}

/** Open incidents, newest first, for pickers. */
export function recentOpenIncidents(db: Database): Promise<IncidentRow[]> {
  return db
    .select()
    .from(incidents)
    .where(ne(incidents.status, 'resolved'))
    .orderBy(desc(incidents.id))
    .limit(20);
}
