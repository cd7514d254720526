import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import type { Duration } from './clock.js';
import { platformsNamedBySource } from './platforms.js';
import { caseFilter, joinCases, type StatsFilter } from './stats-filter.js';
import {
  aggregate,
  byCurrentThenKey,
  type CountBy,
  epochMs,
  inCurrent,
  inPeriods,
  num,
  type Row,
  type Share,
  type StatsRequest,
  seconds,
  share,
} from './stats-query.js';

/** Where the work came from and who did it: the case mix, breaches, escalations, agents, hours, backlog. */

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

export function newCaseMix(db: Database, req: StatsRequest): Promise<Row[]> {
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

export async function breachCounts(db: Database, req: StatsRequest): Promise<CountBy[]> {
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

export async function escalationFigures(db: Database, req: StatsRequest): Promise<EscalationFigures[]> {
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
export async function agentCases(db: Database, req: StatsRequest): Promise<AgentFigures[]> {
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

export function agentReplies(db: Database, req: StatsRequest): Promise<Row[]> {
  const { period: p, filter } = req;
  const byCase: StatsFilter = { platform: filter.platform, sourceKeys: filter.sourceKeys };
  return aggregate(
    db,
    sql`select r.author_id, count(*)::int as n
        from replies r${joinCases(byCase, sql`r.case_id`)}
        where r.status = 'sent' and r.kind = 'answer' and ${inCurrent(sql`r.sent_at`, p)}${caseFilter(byCase)}
          ${filter.agentId ? sql`and r.author_id = ${filter.agentId}` : sql``}
        group by 1`,
  );
}

export async function hourOfWeek(db: Database, req: StatsRequest) {
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
        where r.status = 'sent' and r.kind = 'answer' and ${inCurrent(sql`r.sent_at`, p)}${caseFilter(byCase)}
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

export async function dailyFigures(db: Database, req: StatsRequest): Promise<DailyFigures[]> {
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

export async function backlogNow(db: Database, req: StatsRequest): Promise<Backlog> {
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
