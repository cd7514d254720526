import { sql } from 'drizzle-orm';
import { type Database, queryRowsPrepared, renderOnce } from '../db/client.js';
import { caseEvents, cases, customers, messages } from '../db/schema.js';
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
      OPENING,
      openingValues(now, msg, a, options),
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

/** The values of `OPENING`'s placeholders for one message. */
type OpeningValues = Record<
  | 'sourceKey'
  | 'platform'
  | 'conversationId'
  | 'channelId'
  | 'externalId'
  | 'customerPlatform'
  | 'authorId'
  | 'authorName'
  | 'authorHandle'
  | 'authorUrl'
  | 'authorFollowers'
  | 'facts'
  | 'text'
  | 'url'
  | 'sentAt'
  | 'now'
  | 'reopenCutoff'
  | 'priority'
  | 'reasons'
  | 'firstResponseDueAt'
  | 'resolutionDueAt'
  | 'slaNextCheckAt'
  | 'events',
  string | number | null
>;

/**
 * The values of the opening statement for one message: the priority and SLA deadlines computed
 * here, and the case's first events (the general path's, in its order: opened, priority_set when
 * notable, sla_started) as one JSON parameter, so the statement's text is the same for every message.
 */
export function openingValues(
  now: Date,
  msg: InboundMessage,
  a: Assessment | undefined,
  options: { reopenWithin?: Duration; sla?: SlaSettings },
): OpeningValues {
  const priority = a?.priority ?? 'P3';
  const deadlines = options.sla ? openingDeadlines(now, options.sla, priority) : undefined;
  const events: Array<{ ord: number; type: string; actor: string; data: unknown }> = [
    { ord: 1, type: 'opened', actor: 'customer', data: {} },
  ];
  if (a && (priority !== 'P3' || a.reasons.length > 0))
    events.push({ ord: 2, type: 'priority_set', actor: 'carebot', data: { priority, reasons: a.reasons } });
  if (deadlines)
    events.push({
      ord: 3,
      type: 'sla_started',
      actor: 'carebot',
      data: {
        clocks: ['first_response', 'resolution'],
        firstResponseDueAt: deadlines.firstResponseDueAt.toISOString(),
        resolutionDueAt: deadlines.resolutionDueAt.toISOString(),
      },
    });
  const iso = now.toISOString();
  return {
    sourceKey: msg.sourceKey,
    platform: msg.platform,
    conversationId: msg.conversationId,
    channelId: msg.channelId,
    externalId: msg.externalId,
    customerPlatform: customerPlatform(msg),
    authorId: msg.author.id,
    authorName: msg.author.name ?? null,
    authorHandle: msg.author.handle ?? null,
    authorUrl: msg.author.url ?? null,
    authorFollowers: msg.author.followers ?? null,
    facts: msg.facts?.length ? JSON.stringify(msg.facts) : null,
    text: msg.text,
    url: msg.url ?? null,
    sentAt: msg.sentAt.toISOString(),
    now: iso,
    reopenCutoff: new Date(now.getTime() - (options.reopenWithin ?? 0)).toISOString(),
    priority,
    reasons: JSON.stringify(a?.reasons ?? []),
    firstResponseDueAt: deadlines?.firstResponseDueAt.toISOString() ?? null,
    resolutionDueAt: deadlines?.resolutionDueAt.toISOString() ?? null,
    slaNextCheckAt: deadlines ? iso : null,
    events: JSON.stringify(events),
  };
}

const v = (name: keyof OpeningValues) => sql.placeholder(name);
const at = (name: keyof OpeningValues) => sql`${v(name)}::timestamptz`;

/**
 * The one statement of `openConversation`, rendered once: returns `case_id` and `message_id`, or
 * no row. (Exported for bench/ingest.ts, whose baseline runs it in a bare driver loop.)
 */
export const OPENING = renderOnce(sql`with latest as (
    select id, status, resolved_at from ${cases}
    where source_key = ${v('sourceKey')} and conversation_id = ${v('conversationId')}
    order by id desc limit 1
  ),
  cu as (
    insert into ${customers} (platform, author_id, created_at, updated_at)
    select ${v('customerPlatform')}, ${v('authorId')}, ${at('now')}, ${at('now')}
    where not exists (
        select 1 from ${messages}
        where source_key = ${v('sourceKey')} and external_id = ${v('externalId')} and kind = 'inbound')
      and not exists (
        select 1 from latest
        where status <> 'resolved' or resolved_at >= ${at('reopenCutoff')})
    on conflict (platform, author_id) do update set platform = excluded.platform
    returning id, coalesce(person_id, id) as root
  ),
  c as (
    insert into ${cases} (source_key, platform, conversation_id, channel_id, opened_at,
      last_customer_message_at, previous_case_id, customer_id, priority, priority_reasons,
      first_response_due_at, resolution_due_at, sla_next_check_at, created_at, updated_at)
    select ${v('sourceKey')}, ${v('platform')}, ${v('conversationId')}, ${v('channelId')}, ${at('now')},
      ${at('sentAt')}, (select id from latest), cu.id, ${v('priority')}, ${v('reasons')}::jsonb,
      ${at('firstResponseDueAt')}, ${at('resolutionDueAt')}, ${at('slaNextCheckAt')}, ${at('now')}, ${at('now')}
    from cu
    -- A VIP's case starts a step higher: the general path decides its priority and clocks.
    where not exists (select 1 from ${customers} vip where vip.id = cu.root and vip.vip)
      and not exists (select 1 from ${customers} vip where vip.person_id = cu.root and vip.vip)
    on conflict (source_key, conversation_id) where status <> 'resolved' do nothing
    returning id, previous_case_id
  ),
  m as (
    insert into ${messages} (case_id, kind, source_key, external_id, author_id, author_name,
      author_handle, author_url, author_followers, facts, text, url, sent_at, created_at)
    select id, 'inbound', ${v('sourceKey')}, ${v('externalId')}, ${v('authorId')},
      ${v('authorName')}, ${v('authorHandle')}, ${v('authorUrl')}, ${v('authorFollowers')}::integer,
      ${v('facts')}::jsonb, ${v('text')}, ${v('url')}, ${at('sentAt')}, ${at('now')}
    from c
    returning id, case_id
  ),
  e as (
    insert into ${caseEvents} (case_id, type, actor, data, at)
    select c.id, ev.type, ev.actor,
      case when ev.type = 'opened'
        then jsonb_build_object('messageId', m.id, 'externalId', ${v('externalId')}::text)
          || case when c.previous_case_id is null then '{}'::jsonb
             else jsonb_build_object('previousCaseId', c.previous_case_id) end
        else ev.data end,
      ${at('now')}
    from c join m on m.case_id = c.id
      cross join jsonb_to_recordset(${v('events')}::jsonb) as ev(ord integer, type text, actor text, data jsonb)
    order by ev.ord
  )
  select c.id as case_id, m.id as message_id from c join m on m.case_id = c.id`);

/** The SQLSTATE of a database error, from either driver (drizzle may wrap it). */
function pgCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}
