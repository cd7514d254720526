import { type SQL, sql } from 'drizzle-orm';
import { type Database, queryRowsPrepared } from '../db/client.js';
import { caseEvents, cases, customers, messages } from '../db/schema.js';
import { ts } from '../db/tx.js';
import type { Duration } from './clock.js';
import { customerPlatform } from './customers.js';
import type { InboundMessage, RecordedInbound } from './inbound.js';
import type { Assessment } from './priority.js';
import { openingDeadlines, type SlaSettings } from './sla.js';

/**
 * The common case of a burst, a message that starts a new conversation, in one statement: the
 * case with its priority and SLA deadlines computed here, the message and the case's first events.
 * Returns undefined, having written no case, whenever the general path must decide: the
 * conversation has an open or recently resolved case, the message is already stored, another
 * message of the same conversation is being stored at the same moment, or the author is (linked
 * to) a VIP. The author's customer row is made here too (care/customers.ts).
 */
export async function openConversation(
  db: Database,
  now: Date,
  msg: InboundMessage,
  a: Assessment | undefined,
  options: { reopenWithin?: Duration; sla?: SlaSettings },
): Promise<RecordedInbound | undefined> {
  try {
    const [row] = await queryRowsPrepared<{ case_id: number; message_id: number }>(
      db,
      openingStatement(now, msg, a, options),
    );
    if (!row) return undefined;
    return { caseId: Number(row.case_id), messageId: Number(row.message_id), duplicate: false, opened: true };
  } catch (err) {
    // The same message id stored a moment ago under another conversation: the statement wrote
    // nothing, and the general path reports the duplicate.
    if (pgCode(err) === '23505') return undefined;
    throw err;
  }
}

/**
 * The one statement of `openConversation` (exported for bench/ingest.ts, whose baseline runs it
 * in a bare driver loop): returns `case_id` and `message_id`, or no row.
 */
export function openingStatement(
  now: Date,
  msg: InboundMessage,
  a: Assessment | undefined,
  options: { reopenWithin?: Duration; sla?: SlaSettings },
): SQL {
  const priority = a?.priority ?? 'P3';
  const deadlines = options.sla ? openingDeadlines(now, options.sla, priority) : undefined;
  // The general path's events, in its order: opened, priority_set when notable, sla_started.
  const events: SQL[] = [sql`(1, 'opened', 'customer', '{}'::jsonb)`];
  if (a && (priority !== 'P3' || a.reasons.length > 0)) {
    const data = JSON.stringify({ priority, reasons: a.reasons });
    events.push(sql`(2, 'priority_set', 'carebot', ${data}::jsonb)`);
  }
  if (deadlines) {
    const data = JSON.stringify({
      clocks: ['first_response', 'resolution'],
      firstResponseDueAt: deadlines.firstResponseDueAt.toISOString(),
      resolutionDueAt: deadlines.resolutionDueAt.toISOString(),
    });
    events.push(sql`(3, 'sla_started', 'carebot', ${data}::jsonb)`);
  }
  const reopenCutoff = new Date(now.getTime() - (options.reopenWithin ?? 0));
  const optionalTs = (d: Date | undefined) => (d ? ts(d) : sql`null::timestamptz`);
  return sql`with latest as (
            select id, status, resolved_at from ${cases}
            where source_key = ${msg.sourceKey} and conversation_id = ${msg.conversationId}
            order by id desc limit 1
          ),
          cu as (
            insert into ${customers} (platform, author_id, created_at, updated_at)
            select ${customerPlatform(msg)}, ${msg.author.id}, ${ts(now)}, ${ts(now)}
            where not exists (
                select 1 from ${messages}
                where source_key = ${msg.sourceKey} and external_id = ${msg.externalId} and kind = 'inbound')
              and not exists (
                select 1 from latest
                where status <> 'resolved' or resolved_at >= ${ts(reopenCutoff)})
            on conflict (platform, author_id) do update set platform = excluded.platform
            returning id, coalesce(person_id, id) as root
          ),
          c as (
            insert into ${cases} (source_key, platform, conversation_id, channel_id, opened_at,
              last_customer_message_at, previous_case_id, customer_id, priority, priority_reasons,
              first_response_due_at, resolution_due_at, sla_next_check_at, created_at, updated_at)
            select ${msg.sourceKey}, ${msg.platform}, ${msg.conversationId}, ${msg.channelId}, ${ts(now)},
              ${ts(msg.sentAt)}, (select id from latest), cu.id, ${priority}, ${JSON.stringify(a?.reasons ?? [])}::jsonb,
              ${optionalTs(deadlines?.firstResponseDueAt)}, ${optionalTs(deadlines?.resolutionDueAt)},
              ${optionalTs(deadlines ? now : undefined)}, ${ts(now)}, ${ts(now)}
            from cu
            -- A VIP's case starts a step higher: the general path decides its priority and clocks.
            where not exists (select 1 from ${customers} v where v.id = cu.root and v.vip)
              and not exists (select 1 from ${customers} v where v.person_id = cu.root and v.vip)
            on conflict (source_key, conversation_id) where status <> 'resolved' do nothing
            returning id, previous_case_id
          ),
          m as (
            insert into ${messages} (case_id, kind, source_key, external_id, author_id, author_name,
              author_handle, author_url, author_followers, facts, text, url, sent_at, created_at)
            select id, 'inbound', ${msg.sourceKey}, ${msg.externalId}, ${msg.author.id},
              ${msg.author.name ?? null}, ${msg.author.handle ?? null}, ${msg.author.url ?? null},
              ${msg.author.followers ?? null}::integer,
              ${msg.facts?.length ? JSON.stringify(msg.facts) : null}::jsonb, ${msg.text}, ${msg.url ?? null}, ${ts(msg.sentAt)}, ${ts(now)}
            from c
            returning id, case_id
          ),
          e as (
            insert into ${caseEvents} (case_id, type, actor, data, at)
            select c.id, ev.type, ev.actor,
              case when ev.type = 'opened'
                then jsonb_build_object('messageId', m.id, 'externalId', ${msg.externalId}::text)
                  || case when c.previous_case_id is null then '{}'::jsonb
                     else jsonb_build_object('previousCaseId', c.previous_case_id) end
                else ev.data end,
              ${ts(now)}
            from c join m on m.case_id = c.id
              cross join (values ${sql.join(events, sql`, `)}) as ev(ord, type, actor, data)
            order by ev.ord
          )
          select c.id as case_id, m.id as message_id from c join m on m.case_id = c.id`;
}

/** The SQLSTATE of a database error, from either driver (drizzle may wrap it). */
function pgCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}
