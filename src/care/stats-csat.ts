import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import { caseFilter, type StatsFilter } from './stats-filter.js';
import { aggregate, inPeriods, num, type StatsRequest, type Versus } from './stats-query.js';

/**
 * Customer satisfaction (docs/features/csat.md): the answers to carebot's rating question that
 * came in during the period, by when they came. Per platform and per agent, the agent being who
 * owned the case when it was resolved.
 */

export interface CsatScore {
  /** Answers in the period. */
  count: number;
  /** Their mean, 1 to 5; null without answers. */
  average: number | null;
  /** Questions that left in the period (answered or not), for the response rate. */
  asked: number;
}

export interface CsatBy {
  key: string;
  count: number;
  average: number | null;
}

export interface CsatFigures {
  overall: Versus<CsatScore>;
  byPlatform: CsatBy[];
  byAgent: CsatBy[];
}

/** The cases of the filter, with the agent filter on the rated agent rather than the owner now. */
function ratingFilter(f: StatsFilter): SQL {
  const byCase = caseFilter({ platform: f.platform, sourceKeys: f.sourceKeys });
  return f.agentId ? sql`${byCase} and r.agent_id = ${f.agentId}` : byCase;
}

export async function csatFigures(db: Database, req: StatsRequest): Promise<CsatFigures> {
  const p = req.period;
  const filter = ratingFilter(req.filter);
  const [answers, asked] = await Promise.all([
    aggregate(
      db,
      sql`select r.answered_at >= ${ts(p.current.start)} as is_current, c.platform, r.agent_id,
            count(*)::int as n, sum(r.score)::int as total
          from csat_ratings r join cases c on c.id = r.case_id
          where r.score is not null and ${inPeriods(sql`r.answered_at`, p)}${filter}
          group by 1, 2, 3`,
    ),
    aggregate(
      db,
      sql`select q.sent_at >= ${ts(p.current.start)} as is_current, count(*)::int as n
          from csat_ratings r join cases c on c.id = r.case_id join replies q on q.id = r.reply_id
          where q.status = 'sent' and ${inPeriods(sql`q.sent_at`, p)}${filter}
          group by 1`,
    ),
  ]);
  const score = (current: boolean): CsatScore => {
    const rows = answers.filter((r) => (r.is_current === true) === current);
    const count = rows.reduce((n, r) => n + num(r.n), 0);
    const total = rows.reduce((n, r) => n + num(r.total), 0);
    return {
      count,
      average: count ? total / count : null,
      asked: num(asked.find((r) => (r.is_current === true) === current)?.n),
    };
  };
  const by = (column: 'platform' | 'agent_id'): CsatBy[] => {
    const map = new Map<string, { n: number; total: number }>();
    for (const r of answers) {
      if (r.is_current !== true || r[column] === null || r[column] === undefined) continue;
      const key = String(r[column]);
      const entry = map.get(key) ?? { n: 0, total: 0 };
      entry.n += num(r.n);
      entry.total += num(r.total);
      map.set(key, entry);
    }
    return [...map.entries()]
      .map(([key, e]) => ({ key, count: e.n, average: e.n ? e.total / e.n : null }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  };
  return {
    overall: { current: score(true), previous: score(false) },
    byPlatform: by('platform'),
    byAgent: by('agent_id'),
  };
}
