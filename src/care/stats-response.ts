import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import type { Duration } from './clock.js';
import { caseFilter, filtered } from './stats-filter.js';
import {
  aggregate,
  bool,
  eachPeriod,
  inPeriods,
  num,
  pickPeriods,
  type Row,
  type Share,
  type StatsRequest,
  seconds,
  share,
  type Versus,
} from './stats-query.js';

/** How fast customers were answered and their cases resolved: first response, next response, resolution. */

export interface ResponseFigures {
  /** How many were answered. */
  answered: number;
  median: Duration | null;
  p90: Duration | null;
  /** Unanswered ones count as missed once that much time has passed. */
  within30m: Share;
  within1h: Share;
  /** Answered by the stored (business-hours) deadline; overdue unanswered ones count as missed. */
  withinSla: Share;
}

export interface ResolutionFigures {
  resolved: number;
  median: Duration | null;
  p90: Duration | null;
  withinSla: Share;
}

/**
 * Response-time aggregates over rows with a start, an answer time (null: not answered) and
 * whether an answer is still owed. "Within SLA" needs the deadline or a stored verdict, so each
 * caller adds that pair itself.
 */
function responseAggregates(started: SQL, answeredAt: SQL, waiting: SQL, now: Date): SQL {
  const wait = sql`extract(epoch from ${answeredAt} - ${started})::float8`;
  const pending = (threshold: SQL) => sql`(${waiting} and ${threshold} < ${ts(now)})`;
  return sql`count(${answeredAt})::int as answered,
    percentile_cont(0.5) within group (order by ${wait}) as median_s,
    percentile_cont(0.9) within group (order by ${wait}) as p90_s,
    count(*) filter (where ${answeredAt} <= ${started} + interval '30 minutes')::int as within_30m,
    count(*) filter (where ${answeredAt} is not null
      or ${pending(sql`${started} + interval '30 minutes'`)})::int as within_30m_of,
    count(*) filter (where ${answeredAt} <= ${started} + interval '1 hour')::int as within_1h,
    count(*) filter (where ${answeredAt} is not null
      or ${pending(sql`${started} + interval '1 hour'`)})::int as within_1h_of`;
}

export function responseFigures(r: Row | undefined, withinSla: Share): ResponseFigures {
  return {
    answered: num(r?.answered),
    median: seconds(r?.median_s),
    p90: seconds(r?.p90_s),
    within30m: share(r?.within_30m, r?.within_30m_of),
    within1h: share(r?.within_1h, r?.within_1h_of),
    withinSla,
  };
}

/**
 * Cases resolved in either period. A resolved case keeps the business time its resolution clock
 * had left (`resolution_remaining_ms`): more than none means it was resolved before the deadline.
 */
export async function resolutionFigures(db: Database, req: StatsRequest): Promise<Versus<ResolutionFigures>> {
  const p = req.period;
  const wait = sql`extract(epoch from c.resolved_at - c.opened_at)::float8`;
  const rows = await aggregate(
    db,
    eachPeriod(
      sql`c.resolved_at`,
      p,
      (current, inPeriod) => sql`select ${bool(current)} as is_current,
          count(*)::int as resolved,
          percentile_cont(0.5) within group (order by ${wait}) as median_s,
          percentile_cont(0.9) within group (order by ${wait}) as p90_s,
          count(*) filter (where c.resolution_remaining_ms > 0)::int as within_sla,
          count(c.resolution_remaining_ms) filter (where c.first_response_due_at is not null)::int as within_sla_of
        from cases c
        where c.status = 'resolved' and ${inPeriod}${caseFilter(req.filter)}`,
    ),
  );
  const figures = (r: Row | undefined): ResolutionFigures => ({
    resolved: num(r?.resolved),
    median: seconds(r?.median_s),
    p90: seconds(r?.p90_s),
    withinSla: share(r?.within_sla, r?.within_sla_of),
  });
  const { current, previous } = pickPeriods(rows);
  return { current: figures(current), previous: figures(previous) };
}

/**
 * The next-response clock's events, as SQL literals: the partial index that serves them
 * (`case_events_next_response_idx`) is only used when the query repeats its predicate verbatim.
 */
const NEXT_RESPONSE_EVENT = sql.raw(
  `((e.type = 'sla_started' and e.data->'clocks' @> '["next_response"]'::jsonb)
    or (e.type = 'sla_stopped' and e.data->>'clock' = 'next_response'))`,
);

/**
 * Next-response cycles that started in either period (an `sla_started` event naming the clock).
 * A cycle's next event of that clock is its `sla_stopped` (answered, with the stored verdict
 * `met`) or, when a resolve ended it unanswered, the start of a later cycle or nothing. A cycle
 * with nothing after it may still be running: it is then the case's current one.
 */
export async function nextResponseFigures(db: Database, req: StatsRequest): Promise<Versus<ResponseFigures>> {
  const { period: p, now, filter } = req;
  // Without a filter only unfinished cycles need their case (to see whether they still run): the
  // lateral subquery's condition on the cycle alone is checked before the case is looked up, where
  // a join condition would look up every cycle's case first (53,000 lookups for 30d at 1 M cases).
  const cases = filtered(filter)
    ? sql`join cases c on c.id = s.case_id`
    : sql`left join lateral (select c.status, c.next_response_started_at, c.next_response_due_at
        from cases c where s.next_type is null and c.id = s.case_id offset 0) c on true`;
  const rows = await aggregate(
    db,
    sql`with clock_events as (
          select e.case_id, e.id, e.type, e.at,
            lead(e.type) over w as next_type, lead(e.at) over w as next_at, lead(e.met) over w as next_met
          from (select e.case_id, e.id, e.type, e.at,
              case when e.type = 'sla_stopped' then (e.data->>'met')::boolean end as met
            from case_events e
            where e.at >= ${ts(p.previous.start)} and ${NEXT_RESPONSE_EVENT}) e
          window w as (partition by e.case_id order by e.id)
        ), cycles as (
          select s.at as started, s.at >= ${ts(p.current.start)} as is_current,
            case when s.next_type = 'sla_stopped' then s.next_at end as answered_at,
            case when s.next_type = 'sla_stopped' then s.next_met end as met,
            (s.next_type is null and c.status = 'open' and c.next_response_started_at = s.at) as running,
            c.next_response_due_at as due
          from clock_events s ${cases}
          where s.type = 'sla_started' and ${inPeriods(sql`s.at`, p)}${caseFilter(filter)})
        select is_current,
          ${responseAggregates(sql`started`, sql`answered_at`, sql`running`, now)},
          count(*) filter (where met)::int as within_sla,
          count(*) filter (where met is not null or (running and due < ${ts(now)}))::int as within_sla_of
        from cycles
        group by 1`,
  );
  const { current, previous } = pickPeriods(rows);
  const figures = (r: Row | undefined) => responseFigures(r, share(r?.within_sla, r?.within_sla_of));
  return { current: figures(current), previous: figures(previous) };
}
