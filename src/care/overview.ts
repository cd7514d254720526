import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { ts } from '../db/tx.js';

/** A quick picture of the queue, counted in the database. */
export interface QueueOverview {
  unclaimed: number;
  owned: number;
  openedSince: number;
  resolvedSince: number;
  /** Open cases owned by the given user, when one is given. */
  mine: number;
}

export async function queueOverview(db: Database, since: Date, userId?: string): Promise<QueueOverview> {
  const [row] = await queryRows<Record<keyof QueueOverview, number | string>>(
    db,
    sql`select
          count(*) filter (where status = 'open' and owner_id is null) as unclaimed,
          count(*) filter (where status = 'open' and owner_id is not null) as owned,
          count(*) filter (where opened_at >= ${ts(since)}) as "openedSince",
          count(*) filter (where resolved_at >= ${ts(since)}) as "resolvedSince",
          count(*) filter (where status = 'open' and owner_id = ${userId ?? null}) as mine
        from cases`,
  );
  return {
    unclaimed: Number(row?.unclaimed ?? 0),
    owned: Number(row?.owned ?? 0),
    openedSince: Number(row?.openedSince ?? 0),
    resolvedSince: Number(row?.resolvedSince ?? 0),
    mine: Number(row?.mine ?? 0),
  };
}

export interface HomeCase {
  id: number;
  platform: string;
  sourceKey: string;
  priority: 'P1' | 'P2' | 'P3';
  ownerId: string | null;
  authorName: string;
  text: string;
  openedAt: Date;
  /** The nearest running deadline, if any. */
  dueAt: Date | null;
  slaState: 'ok' | 'at_risk' | 'breached';
}

const HOME_LIMIT = 10;

/**
 * The App Home lists: my open cases (most urgent first: priority, then the nearest deadline),
 * unclaimed cases, and cases waiting on one of my teams. Each list is one indexed query.
 */
export async function homeLists(
  db: Database,
  userId: string,
  myTeams: string[],
): Promise<{ mine: HomeCase[]; unclaimed: HomeCase[]; escalated: HomeCase[] }> {
  const select = (where: ReturnType<typeof sql>) =>
    queryRows<Record<string, unknown>>(
      db,
      // The cases are sorted and cut first, so only the shown ones look up their first message.
      sql`select c.*, m.author_name, m.author_handle, m.author_id, m.text
          from (
            select id, platform, source_key, priority, owner_id, opened_at, sla_state,
              least(
                case when first_response_at is null then first_response_due_at end,
                next_response_due_at,
                resolution_due_at) as due_at
            from cases c
            where c.status = 'open' and ${where}
            order by priority, due_at nulls last, opened_at
            limit ${HOME_LIMIT}) c
          join lateral (
            select author_name, author_handle, author_id, text from messages
            where case_id = c.id and kind = 'inbound' order by id limit 1) m on true
          order by c.priority, c.due_at nulls last, c.opened_at`,
    ).then((rows) =>
      rows.map((r) => ({
        id: Number(r.id),
        platform: String(r.platform),
        sourceKey: String(r.source_key),
        priority: r.priority as HomeCase['priority'],
        ownerId: (r.owner_id as string | null) ?? null,
        authorName: String(r.author_name ?? r.author_handle ?? r.author_id),
        text: String(r.text),
        openedAt: new Date(r.opened_at as string),
        dueAt: r.due_at ? new Date(r.due_at as string) : null,
        slaState: r.sla_state as HomeCase['slaState'],
      })),
    );
  const [mine, unclaimed, escalated] = await Promise.all([
    select(sql`c.owner_id = ${userId}`),
    select(sql`c.owner_id is null`),
    myTeams.length
      ? select(
          sql`exists (select 1 from escalations e where e.case_id = c.id and e.answered_at is null
                and e.team_key in (${sql.join(
                  myTeams.map((t) => sql`${t}`),
                  sql`, `,
                )}))`,
        )
      : Promise.resolve([]),
  ]);
  return { mine, unclaimed, escalated };
}
