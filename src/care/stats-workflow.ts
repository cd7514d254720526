import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { ts } from '../db/tx.js';
import type { Duration } from './clock.js';
import { caseFilter, filtered, joinCases, type StatsFilter } from './stats-filter.js';
import {
  aggregate,
  inPeriods,
  num,
  type Row,
  type StatsRequest,
  seconds,
  type Versus,
} from './stats-query.js';

/**
 * The workflow part of `/care-stats` (docs/features/stats.md#workflow): what auto-assignment,
 * auto-resolve, waiting on the customer and reply approval did in the period, read from the case
 * events they write. Every query starts from `case_events_type_at_idx` (type, at), so its cost is
 * the events of those types in the two periods, whatever the number of cases; a platform or source
 * or agent filter joins each event's case by its key.
 *
 * The agent filter applies to the person each figure is about: whom carebot assigned the case to,
 * who marked it waiting, who owns the resolved case, and who wrote the draft (a trainee).
 */

export interface WorkflowCounts {
  /** Cases carebot assigned (`auto_assigned`). */
  autoAssigned: number;
  /** Of those, cases their assignee let go of afterwards (`unclaimed` by the assignee). */
  handedBack: number;
  /**
   * Resolutions (`resolved` events), by a person or by carebot. Only shown beside `autoResolved`:
   * with a platform, source or agent filter, where counting them means looking up every
   * resolution's case, they are counted only when carebot resolved any case in either period
   * (0 otherwise).
   */
  resolved: number;
  /** Resolutions by the auto-resolve job (`data.automatic`). */
  autoResolved: number;
  /** Cases marked waiting on the customer (`waiting_started`). */
  waitingStarted: number;
  /** Trainee drafts approved as written, approved after an edit, rejected. */
  approved: number;
  editedApproved: number;
  rejected: number;
  /** Median time from a draft to its decision, over the drafts decided in the period. */
  decisionMedian: Duration | null;
}

export interface WorkflowFigures extends Versus<WorkflowCounts> {
  /** Trainee drafts waiting for an approver now (written at any time). */
  draftsWaiting: number;
}

const DECISIONS = ['reply_approved', 'reply_edited_approved', 'reply_rejected'] as const;
const OTHER_TYPES = ['auto_assigned', 'waiting_started', ...DECISIONS] as const;

const list = (values: readonly string[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

/** Whom an event counts for under the agent filter (alias `e`, its case `c`). */
const personOf = sql`case e.type
  when 'auto_assigned' then e.data->>'ownerId'
  when 'waiting_started' then e.actor
  when 'resolved' then c.owner_id
  else e.data->>'authorId' end`;

/** The platform and source part of the filter; the agent part is per figure. */
const byCase = (f: StatsFilter): SQL => caseFilter({ platform: f.platform, sourceKeys: f.sourceKeys });

export async function workflowFigures(db: Database, req: StatsRequest): Promise<WorkflowFigures> {
  const p = req.period;
  const f = req.filter;
  const cs = joinCases(f, sql`e.case_id`);
  const agent = f.agentId ? sql` and ${personOf} = ${f.agentId}` : sql``;
  const resolutions = sql`select e.at >= ${ts(p.current.start)} as is_current, 'resolved' as type,
      count(*)::int as n, 0 as automatic, 0 as handed_back
    from case_events e${cs}
    where e.type = 'resolved' and ${inPeriods(sql`e.at`, p)}${byCase(f)}${agent}
    group by 1`;
  const [events, decisions, waiting] = await Promise.all([
    // Resolutions are by far the most frequent of these events: counted from the (type, at) index
    // alone, and the automatic ones from their own partial index, so that no resolution's row is
    // read (at 1 M cases, reading them was 17,000 pages for 30d). Each branch's rows add up per type.
    aggregate(
      db,
      sql`select e.at >= ${ts(p.current.start)} as is_current, e.type, count(*)::int as n, 0 as automatic,
            count(*) filter (where e.type = 'auto_assigned' and exists (
              select 1 from case_events u
              where u.case_id = e.case_id and u.type = 'unclaimed' and u.at >= e.at
                and u.actor = e.data->>'ownerId'))::int as handed_back
          from case_events e${cs}
          where e.type in (${list(OTHER_TYPES)}) and ${inPeriods(sql`e.at`, p)}${byCase(f)}${agent}
          group by 1, 2
          union all
          select e.at >= ${ts(p.current.start)}, 'resolved', 0, count(*)::int, 0
          from case_events e${cs}
          where e.type = 'resolved' and e.data->>'automatic' is not null and ${inPeriods(sql`e.at`, p)}${byCase(f)}${agent}
          group by 1
          ${filtered(f) ? sql`` : sql`union all ${resolutions}`}`,
    ),
    // The draft is the reply the decision names; it was written when its reply row was.
    aggregate(
      db,
      sql`select e.at >= ${ts(p.current.start)} as is_current,
            percentile_cont(0.5) within group (order by extract(epoch from e.at - d.created_at)) as median
          from case_events e${cs}
            join replies d on d.id = (e.data->>'replyId')::bigint
          where e.type in (${list(DECISIONS)}) and ${inPeriods(sql`e.at`, p)}${byCase(f)}${agent}
          group by 1`,
    ),
    // Drafts still waiting: the replies in that status, through their partial index, so the cost
    // is the drafts waiting now, not every draft ever written.
    aggregate(
      db,
      sql`select count(*)::int as n
          from replies d${joinCases(f, sql`d.case_id`)}
          where d.status = 'awaiting_approval'${byCase(f)}${
            f.agentId ? sql` and d.author_id = ${f.agentId}` : sql``
          }`,
    ),
  ]);
  // Filtered, resolutions are counted only for the line that shows them beside automatic ones.
  if (filtered(f) && events.some((r) => r.type === 'resolved' && num(r.automatic) > 0))
    events.push(...(await aggregate(db, resolutions)));
  const counts = (current: boolean): WorkflowCounts => {
    const rows = events.filter((r) => (r.is_current === true) === current);
    const of = (type: string, column = 'n') =>
      rows.filter((r: Row) => r.type === type).reduce((sum, r) => sum + num(r[column]), 0);
    return {
      autoAssigned: of('auto_assigned'),
      handedBack: of('auto_assigned', 'handed_back'),
      resolved: of('resolved'),
      autoResolved: of('resolved', 'automatic'),
      waitingStarted: of('waiting_started'),
      approved: of('reply_approved'),
      editedApproved: of('reply_edited_approved'),
      rejected: of('reply_rejected'),
      decisionMedian: seconds(decisions.find((r) => (r.is_current === true) === current)?.median),
    };
  };
  return { current: counts(true), previous: counts(false), draftsWaiting: num(waiting[0]?.n) };
}

/** Decisions on trainee drafts in one period. */
export const decided = (c: WorkflowCounts) => c.approved + c.editedApproved + c.rejected;
