import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import { caseFilter } from './stats-filter.js';
import { aggregate, epochMs, inCurrent, num, type StatsRequest } from './stats-query.js';

/** `/care-stats … csv`: the cases of a period, one row each, as a spreadsheet-safe CSV file. */

/** One case of the period as the CSV export lists it. */
export interface CaseExportRow {
  id: number;
  platform: string;
  sourceKey: string;
  openedAt: Date;
  ownerId: string | null;
  priority: string;
  firstResponseAt: Date | null;
  firstResponseMinutes: number | null;
  /** First response by its deadline; null while it can still be met (or without a deadline). */
  withinSla: boolean | null;
  resolvedAt: Date | null;
  breaches: number;
  /** The customer's answer to the rating question, 1 to 5; null when not asked or not answered. */
  csat: number | null;
}

/** The cases opened in the current period, oldest first. */
export async function caseExport(db: Database, req: StatsRequest): Promise<CaseExportRow[]> {
  const { period: p, now } = req;
  const rows = await aggregate(
    db,
    sql`select c.id, c.platform, c.source_key, c.owner_id, c.priority,
          ${epochMs(sql`c.opened_at`)} as opened_ms,
          ${epochMs(sql`c.first_response_at`)} as first_response_ms,
          ${epochMs(sql`c.resolved_at`)} as resolved_ms,
          round((extract(epoch from c.first_response_at - c.opened_at) / 60)::numeric, 1)::float8 as fr_minutes,
          case when c.first_response_due_at is null then null
            when c.first_response_at is not null then c.first_response_at <= c.first_response_due_at
            when c.status = 'open' and c.first_response_due_at < ${ts(now)} then false end as within_sla,
          (select count(*) from case_events e where e.case_id = c.id and e.type = 'sla_breached')::int as breaches,
          (select r.score from csat_ratings r where r.case_id = c.id) as csat
        from cases c
        where ${inCurrent(sql`c.opened_at`, p)}${caseFilter(req.filter)}
        order by c.opened_at, c.id`,
    { parallel: true },
  );
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(num(v)));
  return rows.map((r) => ({
    id: num(r.id),
    platform: String(r.platform),
    sourceKey: String(r.source_key),
    openedAt: new Date(num(r.opened_ms)),
    ownerId: r.owner_id === null || r.owner_id === undefined ? null : String(r.owner_id),
    priority: String(r.priority),
    firstResponseAt: date(r.first_response_ms),
    firstResponseMinutes: r.fr_minutes === null || r.fr_minutes === undefined ? null : Number(r.fr_minutes),
    withinSla: r.within_sla === null || r.within_sla === undefined ? null : r.within_sla === true,
    resolvedAt: date(r.resolved_ms),
    breaches: num(r.breaches),
    csat: r.csat === null || r.csat === undefined ? null : num(r.csat),
  }));
}

export const CSV_COLUMNS = [
  'case id',
  'platform',
  'source',
  'opened at',
  'owner',
  'priority',
  'first response at',
  'first response minutes',
  'within SLA',
  'resolved at',
  'breaches',
  'csat',
] as const;

/**
 * One CSV cell: a value a spreadsheet would run as a formula (starting with =, +, -, @, a tab or
 * a carriage return) gets a leading single quote, as OWASP's CSV injection advice says; then
 * RFC 4180 quoting.
 */
export function csvCell(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** RFC 4180 CSV with times in the stats time zone (ISO 8601 with offset); cells via csvCell. */
export function casesCsv(rows: CaseExportRow[], zone: string): string {
  const time = (d: Date | null) =>
    d ? (DateTime.fromJSDate(d, { zone }).toISO({ suppressMilliseconds: true }) ?? '') : '';
  const cell = csvCell;
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        String(r.id),
        r.platform,
        r.sourceKey,
        time(r.openedAt),
        r.ownerId ?? '',
        r.priority,
        time(r.firstResponseAt),
        r.firstResponseMinutes === null ? '' : String(r.firstResponseMinutes),
        r.withinSla === null ? '' : r.withinSla ? 'yes' : 'no',
        time(r.resolvedAt),
        String(r.breaches),
        r.csat === null ? '' : String(r.csat),
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
