import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { ts } from '../db/tx.js';
import { type Duration, milliseconds } from './clock.js';
import type { IncidentStatus } from './incidents.js';
import type { Range } from './stats-period.js';

/** One incident of a /care-stats period: how many cases it drew and how fast they were answered. */
export interface IncidentFigures {
  id: number;
  title: string;
  status: IncidentStatus;
  openedAt: Date;
  resolvedAt: Date | null;
  /** Linked cases, and those with a first answer that reached the customer. */
  cases: number;
  answered: number;
  /** Median clock time from a linked case's opening to its first answer. */
  firstAnswerMedian: Duration | null;
  /** From the incident's opening to its first statement delivered to a customer. */
  statementAfter: Duration | null;
  statementsSent: number;
}

const MAX_LISTED = 20;

/** Incidents open at any time in the range (opened before its end, not resolved before its start). */
export async function incidentFigures(db: Database, range: Range): Promise<IncidentFigures[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select i.id, i.title, i.status, i.opened_at, i.resolved_at,
          count(c.id)::int as cases,
          count(c.first_response_at)::int as answered,
          percentile_cont(0.5) within group (order by extract(epoch from c.first_response_at - c.opened_at))
            filter (where c.first_response_at is not null) as first_answer_median,
          (select extract(epoch from min(r.sent_at) - i.opened_at)
             from replies r join statement_batches b on b.id = r.batch_id
             where b.incident_id = i.id and r.status = 'sent') as statement_after,
          (select count(*) from replies r join statement_batches b on b.id = r.batch_id
             where b.incident_id = i.id and r.status = 'sent')::int as statements_sent
        from incidents i
        left join incident_cases ic on ic.incident_id = i.id
        left join cases c on c.id = ic.case_id
        where i.opened_at < ${ts(range.end)} and (i.resolved_at is null or i.resolved_at >= ${ts(range.start)})
        group by i.id
        order by i.opened_at, i.id
        limit ${MAX_LISTED}`,
  );
  const secs = (v: unknown) =>
    v === null || v === undefined ? null : milliseconds(Math.round(Number(v) * 1000));
  return rows.map((r) => ({
    id: Number(r.id),
    title: String(r.title),
    status: r.status as IncidentStatus,
    openedAt: new Date(r.opened_at as string),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at as string) : null,
    cases: Number(r.cases),
    answered: Number(r.answered),
    firstAnswerMedian: secs(r.first_answer_median),
    statementAfter: secs(r.statement_after),
    statementsSent: Number(r.statements_sent),
  }));
}
