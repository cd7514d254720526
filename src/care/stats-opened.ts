import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import { caseFilter } from './stats-filter.js';
import {
  aggregate,
  bool,
  eachPeriod,
  hourGrid,
  inCurrent,
  inPeriods,
  num,
  outsideBusinessHoursLocal,
  pickPeriods,
  type Row,
  type StatsRequest,
  seconds,
  share,
} from './stats-query.js';
import { responseFigures } from './stats-response.js';
import { type AgentFigures, type DailyFigures, namedBySource } from './stats-workload.js';

/**
 * Everything `/care-stats` says about the cases opened in the period (and the one before): new
 * cases, first response, arrivals outside business hours, the case mix, the cases per agent, the
 * daily chart and the arrivals by hour of the week, in three statements that run side by side.
 * What costs in them is per case, not per page: a case's wait for its first answer (`extract`
 * computes in numeric) and its local time. Each statement works those out once per case in a
 * subquery (`offset 0` keeps PostgreSQL from copying the expression into every aggregate that
 * uses it), where the statements before #20 worked out the wait up to four times and the local
 * time up to nine times per case, and read the month five times; a materialised CTE shared by all
 * the parts cost more in copying rows than it saved.
 */

export interface OpenedFigures {
  cohort: ReturnType<typeof cohortOf>;
  /** Rows of (is_current, platform, priority, n). */
  mix: Row[];
  agents: AgentFigures[];
  daily: DailyFigures[];
  /** [ISO weekday 1–7 − 1][hour 0–23] in the stats time zone, current period. */
  arrivals: number[][];
}

const WAIT = sql`extract(epoch from c.first_response_at - c.opened_at)::float8`;

export async function openedFigures(db: Database, req: StatsRequest): Promise<OpenedFigures> {
  const [cohort, agents, counts] = await Promise.all([
    cohortFigures(db, req),
    agentCases(db, req),
    mixAndCharts(db, req),
  ]);
  return { cohort, agents, ...counts };
}

/** New cases and their first response, per period; arrivals outside business hours, current period. */
async function cohortFigures(db: Database, req: StatsRequest) {
  const { period: p, now } = req;
  const pending = (threshold: SQL) => sql`(c.status = 'open' and ${threshold} < ${ts(now)})`;
  const rows = await aggregate(
    db,
    eachPeriod(sql`c.opened_at`, p, (current, inPeriod) => {
      return sql`select ${bool(current)} as is_current, count(*)::int as opened,
          count(c.wait)::int as answered,
          percentile_cont(0.5) within group (order by c.wait) as median_s,
          percentile_cont(0.9) within group (order by c.wait) as p90_s,
          count(*) filter (where c.within_30m)::int as within_30m,
          count(*) filter (where c.within_30m_of)::int as within_30m_of,
          count(*) filter (where c.within_1h)::int as within_1h,
          count(*) filter (where c.within_1h_of)::int as within_1h_of,
          count(*) filter (where c.within_sla)::int as within_sla,
          count(*) filter (where c.within_sla_of)::int as within_sla_of,
          ${
            current
              ? sql`count(*) filter (where c.outside)::int as outside_hours,
          percentile_cont(0.5) within group (order by c.wait) filter (where c.outside) as outside_median_s,
          percentile_cont(0.5) within group (order by c.wait) filter (where not c.outside) as inside_median_s`
              : sql`null::int as outside_hours, null::float8 as outside_median_s, null::float8 as inside_median_s`
          }
        from (select c.*, ${current ? outsideBusinessHoursLocal(sql`c.local`, req.businessHours) : sql`null::boolean`} as outside
          from (select ${WAIT} as wait,
              c.first_response_at <= c.opened_at + interval '30 minutes' as within_30m,
              c.first_response_at is not null or ${pending(sql`c.opened_at + interval '30 minutes'`)} as within_30m_of,
              c.first_response_at <= c.opened_at + interval '1 hour' as within_1h,
              c.first_response_at is not null or ${pending(sql`c.opened_at + interval '1 hour'`)} as within_1h_of,
              c.first_response_at <= c.first_response_due_at as within_sla,
              c.first_response_due_at is not null and (c.first_response_at is not null
                or ${pending(sql`c.first_response_due_at`)}) as within_sla_of,
              ${current ? sql`c.opened_at at time zone ${p.zone}` : sql`null::timestamp`} as local
            from cases c
            where ${inPeriod}${caseFilter(req.filter)}
            offset 0) c) c`;
    }),
  );
  return cohortOf(rows);
}

/** Per owner, over the cases opened in the period: how many, first response, deadlines met. */
async function agentCases(db: Database, req: StatsRequest): Promise<AgentFigures[]> {
  const { period: p, now } = req;
  const rows = await aggregate(
    db,
    sql`select c.owner_id, count(*)::int as n,
          percentile_cont(0.5) within group (order by ${WAIT}) as fr_s,
          (count(*) filter (where c.first_response_at <= c.first_response_due_at)
            + count(*) filter (where c.status = 'resolved' and c.resolution_remaining_ms > 0))::int as met,
          (count(*) filter (where c.first_response_due_at is not null and (c.first_response_at is not null
              or (c.status = 'open' and c.first_response_due_at < ${ts(now)})))
            + count(*) filter (where c.first_response_due_at is not null and (
              (c.status = 'resolved' and c.resolution_remaining_ms is not null)
              or (c.status = 'open' and c.resolution_due_at < ${ts(now)}))))::int as due
        from cases c
        where c.owner_id is not null and ${inCurrent(sql`c.opened_at`, p)}${caseFilter(req.filter)}
        group by 1`,
  );
  return rows.map((r) => ({
    userId: String(r.owner_id),
    casesOwned: num(r.n),
    repliesSent: 0,
    firstResponseMedian: seconds(r.fr_s),
    sla: share(r.met, r.due),
  }));
}

/**
 * The case mix (both periods), the daily chart and the arrivals by hour of the week (current
 * period): counts only, so the three groupings are hashed in one pass over the cases, each case's
 * local time worked out once.
 */
async function mixAndCharts(db: Database, req: StatsRequest) {
  const { period: p, now } = req;
  const rows = await aggregate(
    db,
    sql`select case when grouping(c.is_current) = 0 then 'mix' when grouping(c.day) = 0 then 'day' else 'hour' end as kind,
          c.is_current, c.platform, c.priority, to_char(c.day, 'YYYY-MM-DD') as day, c.dow, c.hour,
          count(*)::int as n, count(*) filter (where c.met)::int as met, count(*) filter (where c.due)::int as due
        from (select c.is_current, c.platform, c.priority, c.local::date as day,
            date_part('isodow', c.local)::int as dow, date_part('hour', c.local)::int as hour, c.met, c.due
          from (select c.opened_at >= ${ts(p.current.start)} as is_current,
              -- Generic-webhook sources are told apart by name (forum, reviews), as their cards are.
              case when ${namedBySource(sql`c.platform`)} then c.source_key else c.platform end as platform,
              c.priority,
              case when c.opened_at >= ${ts(p.current.start)} then c.opened_at at time zone ${p.zone} end as local,
              c.first_response_at <= c.first_response_due_at as met,
              c.first_response_due_at is not null and (c.first_response_at is not null
                or (c.status = 'open' and c.first_response_due_at < ${ts(now)})) as due
            from cases c
            where ${inPeriods(sql`c.opened_at`, p)}${caseFilter(req.filter)}
            offset 0) c) c
        group by grouping sets ((c.is_current, c.platform, c.priority), (c.day), (c.dow, c.hour))`,
  );
  // The previous period's cases have no local time: their day and hour groups are null.
  const of = (kind: string) => rows.filter((r) => r.kind === kind);
  const byDay = new Map(of('day').map((r) => [String(r.day), r]));
  return {
    mix: of('mix'),
    daily: p.days.map((day): DailyFigures => {
      const r = byDay.get(day);
      return { day, opened: num(r?.n), firstResponseWithinSla: share(r?.met, r?.due) };
    }),
    arrivals: hourGrid(of('hour').filter((r) => r.dow !== null)),
  };
}

function cohortOf(rows: Row[]) {
  const { current, previous } = pickPeriods(rows);
  const figures = (r: Row | undefined) => ({
    opened: num(r?.opened),
    firstResponse: responseFigures(r, share(r?.within_sla, r?.within_sla_of)),
  });
  return {
    current: figures(current),
    previous: figures(previous),
    outsideHours: {
      cases: num(current?.outside_hours),
      firstResponseMedianOutside: seconds(current?.outside_median_s),
      firstResponseMedianInside: seconds(current?.inside_median_s),
    },
  };
}
