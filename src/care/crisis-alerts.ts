import { and, eq, isNull, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { type CrisisAlertRow, crisisAlerts } from '../db/schema.js';
import { type Tx, ts } from '../db/tx.js';
import type { VolumeReading } from './crisis.js';

const WEEK_MS = 7 * 86_400_000;

/**
 * Cases opened per platform in the window ending `now` (inclusive), and in the same window of each of the
 * past `weeks` weeks. Weeks before carebot's first case do not count as quiet weeks.
 */
export async function readVolume(
  db: Database,
  now: Date,
  windowMs: number,
  weeks: number,
): Promise<Map<string, VolumeReading>> {
  const rows = await queryRows<{ platform: string; k: number; n: number }>(
    db,
    sql`select c.platform, w.k::int as k, count(*)::int as n
        from generate_series(0, ${weeks}::int) as w(k)
        join cases c
          on c.opened_at > ${ts(now)} - w.k * interval '7 days' - ${windowMs}::int * interval '1 millisecond'
         and c.opened_at <= ${ts(now)} - w.k * interval '7 days'
        group by c.platform, w.k`,
  );
  const [first] = await queryRows<{ first: string | Date | null }>(
    db,
    sql`select min(opened_at) as first from cases`,
  );
  const firstAt = first?.first ? new Date(first.first).getTime() : now.getTime();
  const usableWeeks = Array.from({ length: weeks }, (_, i) => i + 1).filter(
    (k) => now.getTime() - k * WEEK_MS - windowMs >= firstAt,
  );
  const readings = new Map<string, VolumeReading>();
  const countOf = (platform: string, k: number) =>
    Number(rows.find((r) => r.platform === platform && Number(r.k) === k)?.n ?? 0);
  for (const platform of new Set(rows.map((r) => r.platform))) {
    readings.set(platform, {
      count: countOf(platform, 0),
      history: usableWeeks.map((k) => countOf(platform, k)),
    });
  }
  return readings;
}

export interface WindowCase {
  caseId: number;
  platform: string;
  text: string;
}

/** The first customer message of each case opened in (from, to], newest cases first. */
export async function casesOpenedBetween(
  db: Database,
  from: Date,
  to: Date,
  limit: number,
): Promise<WindowCase[]> {
  const rows = await queryRows<{ case_id: number; platform: string; text: string }>(
    db,
    sql`select distinct on (m.case_id) m.case_id, c.platform, m.text
        from messages m
        join (select id, platform from cases
              where opened_at > ${ts(from)} and opened_at <= ${ts(to)}
              order by opened_at desc limit ${limit}) c on c.id = m.case_id
        where m.kind = 'inbound'
        order by m.case_id desc, m.id`,
  );
  return rows.map((r) => ({ caseId: Number(r.case_id), platform: r.platform, text: r.text }));
}

export function openAlerts(db: Database): Promise<CrisisAlertRow[]> {
  return db.select().from(crisisAlerts).where(isNull(crisisAlerts.clearedAt)).orderBy(crisisAlerts.id);
}

/**
 * Opens an alert unless one is open for the scope already (another instance got there first):
 * the partial unique index decides, so the storm is announced once. `announce` runs in the same
 * transaction, so an alert is never recorded without its Slack message.
 */
export async function openAlert(
  db: Database,
  alert: {
    kind: 'spike' | 'cluster';
    scope: string;
    platform?: string | undefined;
    now: Date;
    count: number;
    baseline: number;
    terms: string[];
    sampleCaseIds: number[];
  },
  announce: (row: CrisisAlertRow, tx: Tx) => Promise<void>,
): Promise<CrisisAlertRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(crisisAlerts)
      .values({
        kind: alert.kind,
        scope: alert.scope,
        platform: alert.platform ?? null,
        openedAt: alert.now,
        lastAboveAt: alert.now,
        count: alert.count,
        baseline: alert.baseline,
        peakCount: alert.count,
        terms: alert.terms,
        sampleCaseIds: alert.sampleCaseIds,
      })
      .onConflictDoNothing()
      .returning();
    if (row) await announce(row, tx);
    return row;
  });
}

/** The storm goes on: remember when it was last above its threshold, and its peak. */
export async function stillAbove(db: Database, id: number, now: Date, count: number): Promise<void> {
  await db
    .update(crisisAlerts)
    .set({ lastAboveAt: now, peakCount: sql`greatest(${crisisAlerts.peakCount}, ${count})` })
    .where(eq(crisisAlerts.id, id));
}

/** The all-clear, once: only the round that clears the alert gets the row back. */
export async function clearAlert(
  db: Database,
  id: number,
  now: Date,
  announce: (row: CrisisAlertRow, tx: Tx) => Promise<void>,
): Promise<CrisisAlertRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(crisisAlerts)
      .set({ clearedAt: now })
      .where(and(eq(crisisAlerts.id, id), isNull(crisisAlerts.clearedAt)))
      .returning();
    if (row) await announce(row, tx);
    return row;
  });
}

export async function getAlert(db: Database, id: number): Promise<CrisisAlertRow | undefined> {
  const [row] = await db.select().from(crisisAlerts).where(eq(crisisAlerts.id, id));
  return row;
}
