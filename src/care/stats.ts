import type { Database } from '../db/client.js';
import type { Duration } from './clock.js';
import { type IncidentFigures, incidentFigures } from './incident-stats.js';
import { type CsatFigures, csatFigures } from './stats-csat.js';
import type { StatsFilter } from './stats-filter.js';
import { openedFigures } from './stats-opened.js';
import type { StatsPeriod } from './stats-period.js';
import { byCurrentThenKey, type CountBy, num, type StatsRequest, type Versus } from './stats-query.js';
import {
  nextResponseFigures,
  type ResolutionFigures,
  type ResponseFigures,
  resolutionFigures,
} from './stats-response.js';
import { type WorkflowFigures, workflowFigures } from './stats-workflow.js';
import {
  type AgentFigures,
  type Backlog,
  backlogNow,
  breachCounts,
  type DailyFigures,
  type EscalationFigures,
  escalationFigures,
  repliesSent,
} from './stats-workload.js';

/**
 * The figures a care manager is judged by, for `/care-stats` and the weekly digest. Every figure
 * is an aggregate computed in the database (counts, `percentile_cont`), for the period and for the
 * period of the same length before it; nothing here loads the cases of a period into memory,
 * except the CSV export (stats-export.ts), whose job is to list them. careStats runs the queries
 * of stats-opened.ts, stats-response.ts, stats-workload.ts and the rest side by side and puts
 * their figures together.
 *
 * Durations (medians, 90th percentiles, "within 30 min") are clock time. "Within SLA" compares
 * with each case's stored deadline, which the SLA counts in business hours, so it is the
 * business-time figure.
 */

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
  /** Customers' answers to the rating question (see care/stats-csat.ts). */
  csat?: CsatFigures | undefined;
  /** What auto-assignment, auto-resolve, waiting and reply approval did (see care/stats-workflow.ts). */
  workflow?: WorkflowFigures | undefined;
}

/** The figures for a period, each aggregated by the database; the queries run side by side. */
export async function careStats(db: Database, req: StatsRequest): Promise<CareStats> {
  const [opened, resolution, next, breaches, escalations, replies, backlog, csat, workflow] =
    await Promise.all([
      openedFigures(db, req),
      resolutionFigures(db, req),
      nextResponseFigures(db, req),
      breachCounts(db, req),
      escalationFigures(db, req),
      repliesSent(db, req),
      backlogNow(db, req),
      csatFigures(db, req),
      workflowFigures(db, req),
    ]);
  const { cohort, mix, agents, daily } = opened;
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
  for (const r of replies.byAuthor) {
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
    arrivalsByHour: opened.arrivals,
    repliesByHour: replies.byHour,
    daily,
    incidents: await incidentFigures(db, req.period.current),
    csat,
    workflow,
  };
}
