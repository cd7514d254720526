import type postgres from 'postgres';

/**
 * A care team's history at scale, seeded with generate_series on PostgreSQL: `cases` cases over
 * `days` (a year unless told), each with its first message, a reply for most, their events, its Slack thread and the
 * thread posts (all posted), and a little of everything still in flight, as a busy team has it at
 * any moment: 1 in 500 cases open (1 in 1,000 unclaimed), 100 open cases due for an SLA check,
 * 200 cards and 100 thread posts not yet in Slack, 50 replies waiting to be sent, a few
 * escalations waiting on a team, three polled sources.
 *
 * What is in flight is a fixed count, not a share, so a benchmark over 1 M and 10 M cases shows
 * whether a job's cost follows the work or the history.
 */
export interface SeedCounts {
  cases: number;
  messages: number;
  events: number;
}

export async function seedHistory(
  sql: postgres.Sql,
  cases: number,
  now = new Date(),
  days = 365,
): Promise<SeedCounts> {
  const at = now.toISOString();
  // Every case: opened over the `days` before `now`; 1 in 500 of the last million still open (a
  // longer history adds resolved cases, not open ones), 100 of those due for an SLA check.
  const recent = Math.min(cases, 1_000_000);
  const openFrom = cases - recent;
  const dueEvery = 500 * Math.max(1, Math.floor(recent / 50_000));
  await sql.unsafe(
    `insert into cases (source_key, platform, conversation_id, channel_id, status, owner_id, priority,
       opened_at, last_customer_message_at, resolved_at, first_response_at, last_reply_at,
       sla_next_check_at, card_version, card_posted_version, created_at, updated_at)
     select (array['webhook:forum', 'x:1001', 'reddit:brand'])[1 + g % 3],
       (array['webhook', 'x', 'reddit'])[1 + g % 3], 'conv-' || g, 'C0CARE0001',
       case when is_open then 'open' else 'resolved' end,
       case when g % 1000 = 0 then null else 'U0AGENT' || (g % 20) end,
       (array['P1', 'P2', 'P3'])[1 + g % 3],
       t, t, case when is_open then null else t + interval '3 hours' end,
       case when g % 7 = 0 then null else t + interval '20 minutes' end,
       case when g % 7 = 0 then null else t + interval '20 minutes' end,
       case when is_open then
         case when g % ${dueEvery} = 0 then $1::timestamptz - interval '1 minute'
              else $1::timestamptz + interval '1 hour' end end,
       case when g % ${Math.max(1, Math.floor(cases / 200))} = 0 then 3 else 2 end, 2, t, t
     from generate_series(1, ${cases}) g,
       lateral (select $1::timestamptz - (${cases} - g) * (interval '${days} days' / ${cases}) as t,
         g % 500 = 0 and g > ${openFrom} as is_open) x`,
    [at],
  );
  await sql.unsafe(
    `insert into slack_threads (case_id, channel_id, thread_ts, posted_at)
     select id, 'C0CARE0001', (1700000000 + id)::text || '.000100', opened_at from cases`,
  );
  await sql.unsafe(
    `insert into messages (case_id, kind, source_key, external_id, author_id, author_name, text, sent_at, created_at)
     select id, 'inbound', source_key, 'm-' || id, 'cust-' || (id % 50000), 'Customer ' || (id % 50000),
       'My order ' || id || ' never arrived and nobody answers', opened_at, opened_at
     from cases`,
  );
  await sql.unsafe(
    `insert into messages (case_id, kind, source_key, external_id, author_id, text, sent_at, created_at)
     select id, 'outbound', source_key, 'r-' || id, coalesce(owner_id, 'U0AGENT1'), 'Sorry about that, we are on it.',
       last_reply_at, last_reply_at
     from cases where last_reply_at is not null`,
  );
  await sql.unsafe(
    `insert into replies (case_id, status, author_id, text, slack_channel, slack_ts, position, send_at, sent_at,
       created_at, updated_at)
     select id, 'sent', coalesce(owner_id, 'U0AGENT1'), 'Sorry about that, we are on it.', 'C0CARE0001',
       'r' || id, 1, last_reply_at, last_reply_at, last_reply_at, last_reply_at
     from cases where last_reply_at is not null`,
  );
  // Replies in their undo window or due now: the delivery job's work.
  await sql.unsafe(
    `insert into replies (case_id, status, author_id, text, slack_channel, slack_ts, position, send_at,
       created_at, updated_at)
     select id, 'pending', 'U0AGENT1', 'On its way.', 'C0CARE0001', 'p' || id, 2, $1::timestamptz + interval '1 hour',
       $1::timestamptz, $1::timestamptz
     from cases where status = 'open' order by id desc limit 50`,
    [at],
  );
  await sql.unsafe(
    `insert into case_events (case_id, type, actor, data, at)
     select id, e.type, e.actor, '{}'::jsonb, opened_at + e.after
     from cases,
       lateral (values ('opened', 'customer', interval '0'), ('claimed', 'U0AGENT1', interval '5 minutes'),
                       ('reply_sent', 'U0AGENT1', interval '20 minutes'),
                       ('resolved', 'U0AGENT1', interval '3 hours')) e(type, actor, after)`,
  );
  await sql.unsafe(
    `insert into slack_outbox (case_id, key, kind, ref_id, created_at, posted_ts, posted_at)
     select id, 'reply_sent:' || id, 'reply_sent', id, last_reply_at,
       case when id % ${Math.max(1, Math.floor(cases / 100))} = 0 then null else 'o' || id end, last_reply_at
     from cases where last_reply_at is not null`,
  );
  await sql.unsafe(
    `insert into escalations (case_id, team_key, requested_by, note, created_at, acknowledged_at, acknowledged_by,
       answer, answered_at, answered_by)
     select id, 'pr', 'U0AGENT1', 'Please look', opened_at,
       case when status = 'open' then null else opened_at + interval '10 minutes' end,
       case when status = 'open' then null else 'U0PR1' end,
       case when status = 'open' then null else 'Done' end,
       case when status = 'open' then null else opened_at + interval '1 hour' end,
       case when status = 'open' then null else 'U0PR1' end
     from cases where id % 33 = 0`,
  );
  await sql.unsafe(
    `insert into source_cursors (source_key, status, updated_at)
     values ('x:1001', 'active', $1::timestamptz), ('reddit:brand', 'paused', $1::timestamptz),
            ('rss:blog', 'active', $1::timestamptz)
     on conflict do nothing`,
    [at],
  );
  await sql.unsafe('vacuum analyze');
  const [counts] = await sql.unsafe(
    `select (select count(*) from cases)::int as cases, (select count(*) from messages)::int as messages,
       (select count(*) from case_events)::int as events`,
  );
  return counts as unknown as SeedCounts;
}
