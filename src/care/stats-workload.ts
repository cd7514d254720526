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
  hourGrid,
  inCurrent,
  inPeriods,
  num,
  type Row,
  type Share,
  type StatsRequest,
  seconds,
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
export function namedBySource(platform: SQL): SQL {
  const named = platformsNamedBySource();
  return named.length
    ? sql`${platform} in (${sql.join(
        named.map((p) => sql`${p}`),
        sql`, `,
      )})`
    : sql`false`;
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

/**
 * The answers sent in the period: per author (the agent filter keeps its own) and by hour of the
 * week in the stats time zone, from one read of `replies_sent_at_idx`.
 */
export async function repliesSent(db: Database, req: StatsRequest) {
  const { period: p, filter } = req;
  const byCase: StatsFilter = { platform: filter.platform, sourceKeys: filter.sourceKeys };
  const rows = await aggregate(
    db,
    sql`select grouping(r.author_id) = 0 as by_author, r.author_id, r.dow, r.hour, count(*)::int as n
        from (select r.author_id, date_part('isodow', r.local)::int as dow, date_part('hour', r.local)::int as hour
          from (select r.author_id, r.sent_at at time zone ${p.zone} as local
            from replies r${joinCases(byCase, sql`r.case_id`)}
            where r.status = 'sent' and r.kind = 'answer' and ${inCurrent(sql`r.sent_at`, p)}${caseFilter(byCase)}
              ${filter.agentId ? sql`and r.author_id = ${filter.agentId}` : sql``}
            offset 0) r) r
        group by grouping sets ((r.author_id), (r.dow, r.hour))`,
  );
  return {
    byAuthor: rows.filter((r) => r.by_author === true),
    byHour: hourGrid(rows.filter((r) => r.by_author !== true)),
  };
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
