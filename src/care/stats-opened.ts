import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import { caseFilter } from './stats-filter.js';
import {
  aggregate,
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
 * daily chart and the arrivals by hour of the week. Each case's own figures (its wait for a first
 * answer, in numeric and so costly, its local time, whether it arrived outside business hours,
 * whether it met each deadline) are worked out once, kept in a materialised CTE, and every part
 * aggregates from that. Five statements that each read the month again and worked those out
 * several times per case were most of the command's time at a million cases (#20).
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

/** One part of the statement: its rows as JSON, tagged with the part's name. */
const part = (name: string, query: SQL) =>
  sql`select ${sql.raw(`'${name}'`)} as part, to_jsonb(x) as r from (${query}) x`;

export async function openedFigures(db: Database, req: StatsRequest): Promise<OpenedFigures> {
  const { period: p, now } = req;
  const pending = (threshold: SQL) => sql`(c.status = 'open' and ${threshold} < ${ts(now)})`;
  // Each case once: what every part counts, worked out from its row (a null counts as false).
  const perCase = (inRange: SQL) => sql`select c.opened_at >= ${ts(p.current.start)} as is_current,
      case when ${namedBySource(sql`c.platform`)} then c.source_key else c.platform end as platform_key,
      c.priority, c.owner_id,
      extract(epoch from c.first_response_at - c.opened_at)::float8 as wait,
      c.first_response_at <= c.opened_at + interval '30 minutes' as within_30m,
      c.first_response_at is not null or ${pending(sql`c.opened_at + interval '30 minutes'`)} as within_30m_of,
      c.first_response_at <= c.opened_at + interval '1 hour' as within_1h,
      c.first_response_at is not null or ${pending(sql`c.opened_at + interval '1 hour'`)} as within_1h_of,
      c.first_response_at <= c.first_response_due_at as within_sla,
      c.first_response_due_at is not null and (c.first_response_at is not null
        or ${pending(sql`c.first_response_due_at`)}) as within_sla_of,
      c.status = 'resolved' and c.resolution_remaining_ms > 0 as resolved_in_time,
      c.first_response_due_at is not null and ((c.status = 'resolved' and c.resolution_remaining_ms is not null)
        or ${pending(sql`c.resolution_due_at`)}) as resolution_due,
      case when c.opened_at >= ${ts(p.current.start)} then c.opened_at at time zone ${p.zone} end as local
    from cases c
    where ${inRange}${caseFilter(req.filter)}
    offset 0`;
  const opened = (inRange: SQL) => sql`with opened as materialized (
      select c.*, ${outsideBusinessHoursLocal(sql`c.local`, req.businessHours)} as outside
      from (${perCase(inRange)}) c
    )`;
  const cohort = (current: boolean) =>
    sql`select ${sql.raw(String(current))} as is_current, count(*)::int as opened,
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
            : sql`null as outside_hours`
        }
      from opened c
      where ${current ? sql`c.is_current` : sql`not c.is_current`}`;
  // Two statements, side by side: both periods' cohorts and mix, and the current period's agents
  // and charts (each a materialised CTE, read by every part).
  const [periods, current] = await Promise.all([
    aggregate(
      db,
      sql`${opened(inPeriods(sql`c.opened_at`, p))}
        ${part('cohort', cohort(true))}
        union all ${part('cohort', cohort(false))}
        union all ${part(
          'mix',
          sql`select c.is_current, c.platform_key as platform, c.priority, count(*)::int as n
            from opened c group by 1, 2, 3`,
        )}`,
    ),
    aggregate(
      db,
      sql`${opened(inCurrent(sql`c.opened_at`, p))}
        ${part(
          'agent',
          sql`select c.owner_id, count(*)::int as n,
              percentile_cont(0.5) within group (order by c.wait) as fr_s,
              (count(*) filter (where c.within_sla) + count(*) filter (where c.resolved_in_time))::int as met,
              (count(*) filter (where c.within_sla_of) + count(*) filter (where c.resolution_due))::int as due
            from opened c
            where c.owner_id is not null
            group by 1`,
        )}
        union all ${part(
          'day',
          sql`select to_char(d.day, 'YYYY-MM-DD') as day, d.n, d.met, d.due
            from (select c.local::date as day, count(*)::int as n,
                count(*) filter (where c.within_sla)::int as met,
                count(*) filter (where c.within_sla_of)::int as due
              from opened c group by 1) d`,
        )}
        union all ${part(
          'hour',
          sql`select date_part('isodow', c.local)::int as dow, date_part('hour', c.local)::int as hour,
              count(*)::int as n
            from opened c group by 1, 2`,
        )}`,
    ),
  ]);
  const rows = [...periods, ...current];
  const of = (name: string) => rows.filter((r) => r.part === name).map((r) => r.r as Row);
  const byDay = new Map(of('day').map((r) => [String(r.day), r]));
  return {
    cohort: cohortOf(of('cohort')),
    mix: of('mix'),
    agents: of('agent').map((r) => ({
      userId: String(r.owner_id),
      casesOwned: num(r.n),
      repliesSent: 0,
      firstResponseMedian: seconds(r.fr_s),
      sla: share(r.met, r.due),
    })),
    daily: p.days.map((day) => {
      const r = byDay.get(day);
      return { day, opened: num(r?.n), firstResponseWithinSla: share(r?.met, r?.due) };
    }),
    arrivals: hourGrid(of('hour')),
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
