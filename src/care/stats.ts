import { type SQL, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import { type Database, queryRows } from '../db/client.js';
import { slackNotices } from '../db/schema.js';
import { ts } from '../db/tx.js';
import { type Duration, milliseconds } from './clock.js';
import { type IncidentFigures, incidentFigures } from './incident-stats.js';
import { configuredSourceKeys, platformKeys, platformsNamedBySource } from './platforms.js';

/**
 * The figures a care manager is judged by, for `/care-stats` and the weekly digest. Every figure
 * is an aggregate computed in the database (counts, `percentile_cont`), for the period and for the
 * period of the same length before it; nothing here loads the cases of a period into memory,
 * except the CSV export, whose job is to list them.
 *
 * Durations (medians, 90th percentiles, "within 30 min") are clock time. "Within SLA" compares
 * with each case's stored deadline, which the SLA counts in business hours, so it is the
 * business-time figure.
 */

export type PeriodName = 'today' | 'yesterday' | '7d' | '30d' | 'this-week' | 'last-week';
export type PeriodSpec = { kind: PeriodName } | { kind: 'range'; from: string; to: string };

/** Instants from `start` (inclusive) to `end` (exclusive). */
export interface Range {
  start: Date;
  end: Date;
}

export interface StatsPeriod {
  spec: PeriodSpec;
  current: Range;
  /** The period of the same length just before: the same local times, whole days earlier. */
  previous: Range;
  /** The local calendar days of the current period (YYYY-MM-DD), for the daily chart. */
  days: string[];
  zone: string;
}

/** The longest date range `/care-stats` takes. */
export const MAX_RANGE_DAYS = 366;

/** The period a spec names at `now`, in the stats time zone (the config's `timezone`). */
export function statsPeriod(spec: PeriodSpec, now: Date, zone: string): StatsPeriod {
  const local = DateTime.fromJSDate(now, { zone });
  const today = local.startOf('day');
  const monday = today.startOf('week');
  let start: DateTime;
  let end: DateTime;
  let lengthDays: number;
  switch (spec.kind) {
    case 'today':
      [start, end, lengthDays] = [today, local, 1];
      break;
    case 'yesterday':
      [start, end, lengthDays] = [today.minus({ days: 1 }), today, 1];
      break;
    case '7d':
      [start, end, lengthDays] = [today.minus({ days: 6 }), local, 7];
      break;
    case '30d':
      [start, end, lengthDays] = [today.minus({ days: 29 }), local, 30];
      break;
    case 'this-week':
      [start, end, lengthDays] = [monday, local, 7];
      break;
    case 'last-week':
      [start, end, lengthDays] = [monday.minus({ weeks: 1 }), monday, 7];
      break;
    case 'range': {
      start = DateTime.fromISO(spec.from, { zone }).startOf('day');
      const last = DateTime.fromISO(spec.to, { zone }).startOf('day');
      lengthDays = Math.round(last.diff(start, 'days').days) + 1;
      end = last.plus({ days: 1 });
      if (end > local) end = local;
      break;
    }
  }
  const days: string[] = [];
  for (let d = start.startOf('day'); d < end; d = d.plus({ days: 1 })) days.push(d.toISODate() ?? '');
  return {
    spec,
    current: { start: start.toJSDate(), end: end.toJSDate() },
    previous: {
      start: start.minus({ days: lengthDays }).toJSDate(),
      end: end.minus({ days: lengthDays }).toJSDate(),
    },
    days,
    zone,
  };
}

/** Which cases the figures cover; every part is optional. */
export interface StatsFilter {
  platform?: string | undefined;
  /** Source keys (`webhook:forum`, `x:123…`) of a named source. */
  sourceKeys?: string[] | undefined;
  /** A Slack user id: cases they own, replies they sent. */
  agentId?: string | undefined;
}

export interface StatsRequest {
  period: StatsPeriod;
  filter: StatsFilter;
  now: Date;
  businessHours: Config['businessHours'];
}

/** `hits` out of `of`; the share is shown only when `of` is not 0. */
export interface Share {
  hits: number;
  of: number;
}

export interface Versus<T> {
  current: T;
  previous: T;
}

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

export interface CountBy {
  key: string;
  current: number;
  previous: number;
}

export interface EscalationFigures extends CountBy {
  /** Of the current period's escalations. */
  answered: number;
  ackMedian: Duration | null;
  answerMedian: Duration | null;
}

export interface AgentFigures {
  userId: string;
  /** Cases opened in the period that they own now. */
  casesOwned: number;
  repliesSent: number;
  firstResponseMedian: Duration | null;
  /** First response and resolution deadlines of their cases, met or missed. */
  sla: Share;
}

export interface Backlog {
  unclaimed: number;
  owned: number;
  /** Open cases with an escalation that the team has not answered. */
  waitingOnTeam: number;
  /** Open cases whose customer waits past a response deadline. */
  overdue: number;
  /** The customer who has waited longest for an answer. */
  oldestWaiting?: { caseId: number; since: Date; thread?: { channelId: string; threadTs: string } };
}

export interface DailyFigures {
  day: string;
  opened: number;
  firstResponseWithinSla: Share;
}

export interface CareStats {
  period: StatsPeriod;
  filter: StatsFilter;
  generatedAt: Date;
  newCases: Versus<number>;
  byPlatform: CountBy[];
  byPriority: CountBy[];
  /** Cases of the period that arrived outside business hours, and how fast they got an answer. */
  outsideHours: {
    cases: number;
    firstResponseMedianOutside: Duration | null;
    firstResponseMedianInside: Duration | null;
  };
  backlog: Backlog;
  /** Cases opened in the period. */
  firstResponse: Versus<ResponseFigures>;
  /** Follow-ups whose next-response clock started in the period. */
  nextResponse: Versus<ResponseFigures>;
  /** Cases resolved in the period. */
  resolution: Versus<ResolutionFigures>;
  breaches: CountBy[];
  escalations: EscalationFigures[];
  agents: AgentFigures[];
  /** [ISO weekday 1–7 − 1][hour 0–23] in the stats time zone. */
  arrivalsByHour: number[][];
  repliesByHour: number[][];
  daily: DailyFigures[];
  /** Incidents open at any time in the period (see care/incident-stats.ts). */
  incidents?: IncidentFigures[] | undefined;
}

type Row = Record<string, unknown>;

/**
 * Runs one of the stats aggregates. JIT is off for it: compiling these one-off queries costs
 * PostgreSQL more (over 100 ms each at a million cases) than it saves, and a little more sort
 * memory keeps the percentile sorts of a month off the disk. Both settings end with the
 * transaction.
 */
async function aggregate(db: Database, query: SQL): Promise<Row[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('jit', 'off', true), set_config('work_mem', '32MB', true)`);
    return queryRows<Row>(tx, query);
  });
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const seconds = (v: unknown): Duration | null =>
  v === null || v === undefined ? null : milliseconds(Math.round(Number(v) * 1000));
const share = (hits: unknown, of: unknown): Share => ({ hits: num(hits), of: num(of) });
const epochMs = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`;

/** `and …` for the cases of the filter (alias `c`); empty when there is no filter. */
function caseFilter(f: StatsFilter): SQL {
  const parts: SQL[] = [];
  if (f.platform) parts.push(sql`c.platform = ${f.platform}`);
  if (f.sourceKeys)
    parts.push(
      sql`c.source_key in (${sql.join(
        f.sourceKeys.map((k) => sql`${k}`),
        sql`, `,
      )})`,
    );
  if (f.agentId) parts.push(sql`c.owner_id = ${f.agentId}`);
  return parts.length ? sql` and ${sql.join(parts, sql` and `)}` : sql``;
}

const filtered = (f: StatsFilter) => Boolean(f.platform || f.sourceKeys || f.agentId);

/** `column` falls in the current or the previous period (one index range scan). */
function inPeriods(column: SQL, p: StatsPeriod): SQL {
  return sql`${column} >= ${ts(p.previous.start)} and ${column} < ${ts(p.current.end)}
    and (${column} >= ${ts(p.current.start)} or ${column} < ${ts(p.previous.end)})`;
}

function inCurrent(column: SQL, p: StatsPeriod): SQL {
  return sql`${column} >= ${ts(p.current.start)} and ${column} < ${ts(p.current.end)}`;
}

/** True for instants outside the business-hours calendar (holidays included), in SQL. */
function outsideBusinessHours(column: SQL, bh: Config['businessHours'], zone: string): SQL {
  if (bh === 'always') return sql`false`;
  const local = sql`(${column} at time zone ${zone})`;
  const days = bh.days.map((d) => ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].indexOf(d) + 1);
  const open = sql`extract(isodow from ${local}) in (${sql.raw(days.join(', '))})
    and ${local}::time >= ${bh.start}::time and ${local}::time < ${bh.end}::time`;
  const holidays = bh.holidays.length
    ? sql` and ${local}::date not in (${sql.join(
        bh.holidays.map((h) => sql`${h}::date`),
        sql`, `,
      )})`
    : sql``;
  return sql`not (${open}${holidays})`;
}

/** The figures for a period, each aggregated by the database; the queries run side by side. */
export async function careStats(db: Database, req: StatsRequest): Promise<CareStats> {
  const [cohort, mix, resolution, next, breaches, escalations, agents, replies, hours, daily, backlog] =
    await Promise.all([
      cohortFigures(db, req),
      newCaseMix(db, req),
      resolutionFigures(db, req),
      nextResponseFigures(db, req),
      breachCounts(db, req),
      escalationFigures(db, req),
      agentCases(db, req),
      agentReplies(db, req),
      hourOfWeek(db, req),
      dailyFigures(db, req),
      backlogNow(db, req),
    ]);
  const byPlatform = new Map<string, CountBy>();
  const byPriority = new Map<string, CountBy>();
  for (const r of mix) {
    const current = r.is_current === true;
    for (const [map, key] of [
      [byPlatform, String(r.platform)],
      [byPriority, String(r.priority)],
    ] as const) {
      const entry = map.get(key) ?? { key, current: 0, previous: 0 };
      entry[current ? 'current' : 'previous'] += num(r.n);
      map.set(key, entry);
    }
  }
  const agentMap = new Map<string, AgentFigures>();
  for (const a of agents) agentMap.set(a.userId, a);
  for (const r of replies) {
    const userId = String(r.author_id);
    const entry = agentMap.get(userId) ?? {
      userId,
      casesOwned: 0,
      repliesSent: 0,
      firstResponseMedian: null,
      sla: { hits: 0, of: 0 },
    };
    entry.repliesSent = num(r.n);
    agentMap.set(userId, entry);
  }
  return {
    period: req.period,
    filter: req.filter,
    generatedAt: req.now,
    newCases: { current: cohort.current.opened, previous: cohort.previous.opened },
    byPlatform: [...byPlatform.values()].sort(byCurrentThenKey),
    byPriority: [...byPriority.values()].sort((a, b) => a.key.localeCompare(b.key)),
    outsideHours: cohort.outsideHours,
    backlog,
    firstResponse: { current: cohort.current.firstResponse, previous: cohort.previous.firstResponse },
    nextResponse: next,
    resolution,
    breaches,
    escalations,
    agents: [...agentMap.values()].sort(
      (a, b) =>
        b.casesOwned - a.casesOwned || b.repliesSent - a.repliesSent || a.userId.localeCompare(b.userId),
    ),
    arrivalsByHour: hours.arrivals,
    repliesByHour: hours.replies,
    daily,
    incidents: await incidentFigures(db, req.period.current),
  };
}

const byCurrentThenKey = (a: CountBy, b: CountBy) =>
  b.current - a.current || b.previous - a.previous || a.key.localeCompare(b.key);

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

function responseFigures(r: Row | undefined, withinSla: Share): ResponseFigures {
  return {
    answered: num(r?.answered),
    median: seconds(r?.median_s),
    p90: seconds(r?.p90_s),
    within30m: share(r?.within_30m, r?.within_30m_of),
    within1h: share(r?.within_1h, r?.within_1h_of),
    withinSla,
  };
}

function pickPeriods(rows: Row[]): { current: Row | undefined; previous: Row | undefined } {
  return {
    current: rows.find((r) => r.is_current === true),
    previous: rows.find((r) => r.is_current === false),
  };
}

/** Cases opened in either period: new cases, first response, arrivals outside business hours. */
async function cohortFigures(db: Database, req: StatsRequest) {
  const { period: p, now } = req;
  const outside = outsideBusinessHours(sql`c.opened_at`, req.businessHours, p.zone);
  const frWait = sql`extract(epoch from c.first_response_at - c.opened_at)::float8`;
  const rows = await aggregate(
    db,
    sql`select c.opened_at >= ${ts(p.current.start)} as is_current,
          count(*)::int as opened,
          ${responseAggregates(sql`c.opened_at`, sql`c.first_response_at`, sql`(c.status = 'open')`, now)},
          count(*) filter (where c.first_response_at <= c.first_response_due_at)::int as within_sla,
          count(*) filter (where c.first_response_due_at is not null and (c.first_response_at is not null
            or (c.status = 'open' and c.first_response_due_at < ${ts(now)})))::int as within_sla_of,
          count(*) filter (where ${outside})::int as outside_hours,
          percentile_cont(0.5) within group (order by case when ${outside} then ${frWait} end) as outside_median_s,
          percentile_cont(0.5) within group (order by case when not (${outside}) then ${frWait} end) as inside_median_s
        from cases c
        where ${inPeriods(sql`c.opened_at`, p)}${caseFilter(req.filter)}
        group by 1`,
  );
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

/** Whether a platform's sources are named by their sender (webhook: forum, reviews). */
function namedBySource(platform: SQL): SQL {
  const named = platformsNamedBySource();
  return named.length
    ? sql`${platform} in (${sql.join(
        named.map((p) => sql`${p}`),
        sql`, `,
      )})`
    : sql`false`;
}

function newCaseMix(db: Database, req: StatsRequest): Promise<Row[]> {
  const p = req.period;
  return aggregate(
    db,
    // Generic-webhook sources are told apart by name (forum, reviews), as their cards are.
    sql`select c.opened_at >= ${ts(p.current.start)} as is_current,
          case when ${namedBySource(sql`c.platform`)} then c.source_key else c.platform end as platform,
          c.priority, count(*)::int as n
        from cases c
        where ${inPeriods(sql`c.opened_at`, p)}${caseFilter(req.filter)}
        group by 1, 2, 3`,
  );
}

/**
 * Cases resolved in either period. A resolved case keeps the business time its resolution clock
 * had left (`resolution_remaining_ms`): more than none means it was resolved before the deadline.
 */
async function resolutionFigures(db: Database, req: StatsRequest): Promise<Versus<ResolutionFigures>> {
  const p = req.period;
  const wait = sql`extract(epoch from c.resolved_at - c.opened_at)::float8`;
  const rows = await aggregate(
    db,
    sql`select c.resolved_at >= ${ts(p.current.start)} as is_current,
          count(*)::int as resolved,
          percentile_cont(0.5) within group (order by ${wait}) as median_s,
          percentile_cont(0.9) within group (order by ${wait}) as p90_s,
          count(*) filter (where c.resolution_remaining_ms > 0)::int as within_sla,
          count(c.resolution_remaining_ms) filter (where c.first_response_due_at is not null)::int as within_sla_of
        from cases c
        where c.status = 'resolved' and ${inPeriods(sql`c.resolved_at`, p)}${caseFilter(req.filter)}
        group by 1`,
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
async function nextResponseFigures(db: Database, req: StatsRequest): Promise<Versus<ResponseFigures>> {
  const { period: p, now, filter } = req;
  // Without a filter only unfinished cycles need their case (to see whether they still run).
  const cases = filtered(filter)
    ? sql`join cases c on c.id = s.case_id`
    : sql`left join cases c on s.next_type is null and c.id = s.case_id`;
  const rows = await aggregate(
    db,
    sql`with clock_events as (
          select e.case_id, e.id, e.type, e.at,
            lead(e.type) over w as next_type, lead(e.at) over w as next_at, lead(e.data) over w as next_data
          from case_events e
          where e.at >= ${ts(p.previous.start)} and ${NEXT_RESPONSE_EVENT}
          window w as (partition by e.case_id order by e.id)
        ), cycles as (
          select s.at as started, s.at >= ${ts(p.current.start)} as is_current,
            case when s.next_type = 'sla_stopped' then s.next_at end as answered_at,
            case when s.next_type = 'sla_stopped' then (s.next_data->>'met')::boolean end as met,
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

const joinCases = (f: StatsFilter, on: SQL) => (filtered(f) ? sql` join cases c on c.id = ${on}` : sql``);

async function breachCounts(db: Database, req: StatsRequest): Promise<CountBy[]> {
  const p = req.period;
  const rows = await aggregate(
    db,
    sql`select e.at >= ${ts(p.current.start)} as is_current, e.data->>'clock' as clock, count(*)::int as n
        from case_events e${joinCases(req.filter, sql`e.case_id`)}
        where e.type = 'sla_breached' and ${inPeriods(sql`e.at`, p)}${caseFilter(req.filter)}
        group by 1, 2`,
  );
  return countsBy(rows, 'clock');
}

function countsBy(rows: Row[], column: string): CountBy[] {
  const map = new Map<string, CountBy>();
  for (const r of rows) {
    const key = String(r[column]);
    const entry = map.get(key) ?? { key, current: 0, previous: 0 };
    entry[r.is_current === true ? 'current' : 'previous'] += num(r.n);
    map.set(key, entry);
  }
  return [...map.values()].sort(byCurrentThenKey);
}

async function escalationFigures(db: Database, req: StatsRequest): Promise<EscalationFigures[]> {
  const p = req.period;
  const rows = await aggregate(
    db,
    sql`select x.created_at >= ${ts(p.current.start)} as is_current, x.team_key, count(*)::int as n,
          count(x.answered_at)::int as answered,
          percentile_cont(0.5) within group (order by extract(epoch from x.acknowledged_at - x.created_at)::float8) as ack_s,
          percentile_cont(0.5) within group (order by extract(epoch from x.answered_at - x.created_at)::float8) as answer_s
        from escalations x${joinCases(req.filter, sql`x.case_id`)}
        where ${inPeriods(sql`x.created_at`, p)}${caseFilter(req.filter)}
        group by 1, 2`,
  );
  return countsBy(rows, 'team_key').map((c) => {
    const r = rows.find((row) => row.is_current === true && String(row.team_key) === c.key);
    return {
      ...c,
      answered: num(r?.answered),
      ackMedian: seconds(r?.ack_s),
      answerMedian: seconds(r?.answer_s),
    };
  });
}

/** Per owner, over the cases opened in the period: how many, first response, deadlines met. */
async function agentCases(db: Database, req: StatsRequest): Promise<AgentFigures[]> {
  const { period: p, now } = req;
  const rows = await aggregate(
    db,
    sql`select c.owner_id, count(*)::int as n,
          percentile_cont(0.5) within group (order by extract(epoch from c.first_response_at - c.opened_at)::float8) as fr_s,
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

function agentReplies(db: Database, req: StatsRequest): Promise<Row[]> {
  const { period: p, filter } = req;
  const byCase: StatsFilter = { platform: filter.platform, sourceKeys: filter.sourceKeys };
  return aggregate(
    db,
    sql`select r.author_id, count(*)::int as n
        from replies r${joinCases(byCase, sql`r.case_id`)}
        where r.status = 'sent' and ${inCurrent(sql`r.sent_at`, p)}${caseFilter(byCase)}
          ${filter.agentId ? sql`and r.author_id = ${filter.agentId}` : sql``}
        group by 1`,
  );
}

async function hourOfWeek(db: Database, req: StatsRequest) {
  const { period: p, filter } = req;
  const byCase: StatsFilter = { platform: filter.platform, sourceKeys: filter.sourceKeys };
  const bucket = (column: SQL) =>
    sql`extract(isodow from ${column} at time zone ${p.zone})::int as dow,
        extract(hour from ${column} at time zone ${p.zone})::int as hour`;
  const rows = await aggregate(
    db,
    sql`select 'arrivals' as kind, ${bucket(sql`c.opened_at`)}, count(*)::int as n
        from cases c
        where ${inCurrent(sql`c.opened_at`, p)}${caseFilter(filter)}
        group by 1, 2, 3
        union all
        select 'replies' as kind, ${bucket(sql`r.sent_at`)}, count(*)::int as n
        from replies r${joinCases(byCase, sql`r.case_id`)}
        where r.status = 'sent' and ${inCurrent(sql`r.sent_at`, p)}${caseFilter(byCase)}
          ${filter.agentId ? sql`and r.author_id = ${filter.agentId}` : sql``}
        group by 1, 2, 3`,
  );
  const grid = () => Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  const arrivals = grid();
  const replies = grid();
  for (const r of rows) {
    const target = r.kind === 'arrivals' ? arrivals : replies;
    const day = target[num(r.dow) - 1];
    if (day) day[num(r.hour)] = num(r.n);
  }
  return { arrivals, replies };
}

async function dailyFigures(db: Database, req: StatsRequest): Promise<DailyFigures[]> {
  const { period: p, now } = req;
  const rows = await aggregate(
    db,
    sql`select to_char(c.opened_at at time zone ${p.zone}, 'YYYY-MM-DD') as day, count(*)::int as n,
          count(*) filter (where c.first_response_at <= c.first_response_due_at)::int as met,
          count(*) filter (where c.first_response_due_at is not null and (c.first_response_at is not null
            or (c.status = 'open' and c.first_response_due_at < ${ts(now)})))::int as due
        from cases c
        where ${inCurrent(sql`c.opened_at`, p)}${caseFilter(req.filter)}
        group by 1`,
  );
  const byDay = new Map(rows.map((r) => [String(r.day), r]));
  return p.days.map((day) => {
    const r = byDay.get(day);
    return { day, opened: num(r?.n), firstResponseWithinSla: share(r?.met, r?.due) };
  });
}

async function backlogNow(db: Database, req: StatsRequest): Promise<Backlog> {
  const { now, filter } = req;
  const waitingSince = sql`coalesce(c.next_response_started_at, c.opened_at)`;
  const [counts, oldest] = await Promise.all([
    aggregate(
      db,
      sql`select count(*) filter (where c.owner_id is null)::int as unclaimed,
            count(*) filter (where c.owner_id is not null)::int as owned,
            count(*) filter (where exists (select 1 from escalations x
              where x.case_id = c.id and x.answered_at is null))::int as waiting_on_team,
            count(*) filter (where (c.first_response_at is null and c.first_response_due_at < ${ts(now)})
              or c.next_response_due_at < ${ts(now)})::int as overdue
          from cases c
          where c.status = 'open'${caseFilter(filter)}`,
    ),
    aggregate(
      db,
      sql`select c.id, ${epochMs(waitingSince)} as since_ms, t.channel_id, t.thread_ts
          from cases c left join slack_threads t on t.case_id = c.id
          where c.status = 'open' and (c.first_response_at is null or c.next_response_started_at is not null)
            ${caseFilter(filter)}
          order by ${waitingSince}, c.id
          limit 1`,
    ),
  ]);
  const r = counts[0];
  const o = oldest[0];
  return {
    unclaimed: num(r?.unclaimed),
    owned: num(r?.owned),
    waitingOnTeam: num(r?.waiting_on_team),
    overdue: num(r?.overdue),
    ...(o
      ? {
          oldestWaiting: {
            caseId: num(o.id),
            since: new Date(num(o.since_ms)),
            ...(o.channel_id && o.thread_ts
              ? { thread: { channelId: String(o.channel_id), threadTs: String(o.thread_ts) } }
              : {}),
          },
        }
      : {}),
  };
}

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
          (select count(*) from case_events e where e.case_id = c.id and e.type = 'sla_breached')::int as breaches
        from cases c
        where ${inCurrent(sql`c.opened_at`, p)}${caseFilter(req.filter)}
        order by c.opened_at, c.id`,
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
      ]
        .map(cell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The source keys a name given to `/care-stats` stands for: configured accounts and feeds by
 * their name, or any source with cases whose key is `<platform>:<name>` (webhook sources are named
 * by whoever posts to them). Undefined when nothing goes by that name.
 */
export async function sourceKeysNamed(
  db: Database,
  config: Pick<Config, 'sources'>,
  name: string,
): Promise<string[] | undefined> {
  const lower = name.toLowerCase();
  const configured = configuredSourceKeys(config.sources, lower);
  const candidates = [
    ...new Set([
      ...configured,
      ...(name.includes(':') ? [name] : platformKeys().map((pf) => `${pf}:${name}`)),
    ]),
  ];
  // The inbound-message key index answers "does any message come from this source" at once.
  const found = await queryRows<{ key: string }>(
    db,
    sql`select k as key from (values ${sql.join(
      candidates.map((k) => sql`(${k}::text)`),
      sql`, `,
    )}) as v(k)
        where exists (select 1 from messages m where m.kind = 'inbound' and m.source_key = v.k)`,
  );
  const keys = [...new Set([...configured, ...found.map((r) => String(r.key))])];
  return keys.length ? keys : undefined;
}

/**
 * Claims one weekly digest (by channel and minute) through the channel-notice table's unique key,
 * so several carebot instances firing the same cron post it once. The notice carries the plain
 * text of the digest and is held for `holdMs`: if the poster dies before it marks the notice
 * posted, the Slack sync posts that text later, so the digest is not lost.
 */
export async function claimDigest(
  db: Database,
  digest: { key: string; channelId: string; text: string; now: Date; holdMs: Duration },
): Promise<number | undefined> {
  const [row] = await db
    .insert(slackNotices)
    .values({
      key: digest.key,
      channelId: digest.channelId,
      text: digest.text,
      createdAt: digest.now,
      nextAttemptAt: new Date(digest.now.getTime() + digest.holdMs),
    })
    .onConflictDoNothing()
    .returning({ id: slackNotices.id });
  return row ? Number(row.id) : undefined;
}
