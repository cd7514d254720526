import { and, asc, desc, eq, ne, type SQL, sql, TransactionRollbackError } from 'drizzle-orm';
import { type Database, queryRows, queryRowsPrepared } from '../db/client.js';
import {
  type CaseRow,
  caseEvents,
  cases,
  escalations,
  type MessageRow,
  messages,
  slackOutbox,
} from '../db/schema.js';
import { toWellFormed } from '../http/well-formed.js';
import type { Clock, Duration } from './clock.js';
import { announce, waitingOn } from './escalations.js';
import type { InboundMessage } from './inbound.js';
import { incidentOfCase } from './incidents.js';
import type { EscalationRule, Priority } from './priority.js';
import { type Assessment, assess, higher } from './priority.js';
import {
  continuedResolutionDue,
  deadlinesForPriority,
  nextResponseDue,
  openingDeadlines,
  resolutionRemaining,
  type SlaSettings,
} from './sla.js';

export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface RecordedInbound {
  caseId: number;
  messageId: number;
  duplicate: boolean;
  /** True when this message opened a new case. */
  opened: boolean;
}

class DuplicateMessage extends Error {}

const NUL = new RegExp(String.fromCharCode(0), 'g');
const clean = <T extends string | undefined>(v: T): T =>
  v === undefined ? v : (toWellFormed(v.replace(NUL, '')) as T);

/**
 * PostgreSQL cannot store U+0000 in text nor a lone UTF-16 surrogate in jsonb, and a platform may
 * send either: NULs are dropped and lone surrogates become U+FFFD rather than making the message
 * impossible to store (a message that can never be stored would stop its poller for good). The
 * webhooks refuse such ids with a 400 before this; pollers cannot refuse what they read.
 */
function storable(msg: InboundMessage): InboundMessage {
  return {
    ...msg,
    sourceKey: clean(msg.sourceKey),
    externalId: clean(msg.externalId),
    conversationId: clean(msg.conversationId),
    text: clean(msg.text),
    url: clean(msg.url),
    author: {
      ...msg.author,
      id: clean(msg.author.id),
      name: clean(msg.author.name),
      handle: clean(msg.author.handle),
      url: clean(msg.author.url),
    },
  };
}

/** A timestamp parameter for raw SQL: both drivers accept ISO text, not every driver a Date. */
export const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Stores a customer's message and opens a case for its conversation or joins the open one, in one
 * transaction. The same message again (a redelivery, an overlapping poll) changes nothing and
 * reports the case it already belongs to.
 */
export async function recordInbound(
  db: Database,
  clock: Clock,
  msg: InboundMessage,
  options: { reopenWithin?: Duration; sla?: SlaSettings; rules?: EscalationRule[] } = {},
): Promise<RecordedInbound> {
  msg = storable(msg);
  const now = clock.now();
  let escalate: Assessment['escalate'] = [];
  let reasonsByRule: string[] = [];
  const assessment = options.rules
    ? assess({ text: msg.text, followers: msg.author.followers }, options.rules)
    : undefined;
  let recorded: RecordedInbound | undefined = await openConversation(db, now, msg, assessment, options);
  if (recorded && assessment) {
    escalate = assessment.escalate;
    reasonsByRule = assessment.reasons;
  }
  if (!recorded) {
    const existing = await findInbound(db, msg);
    if (existing) return { caseId: existing.caseId, messageId: existing.id, duplicate: true, opened: false };
  }
  try {
    recorded ??= await db.transaction(async (tx) => {
      // Join the open case of the conversation if there is one (its card shows the newest message
      // time, so it is bumped). Otherwise reopen the case resolved within `reopenWithin`, or open
      // a new one that links to the older case. The insert handles the race of two messages of a
      // new conversation: the partial unique index decides and the loser joins the winner's case.
      // Trying the join first keeps case numbers without gaps.
      const [open] = await tx
        .update(cases)
        .set({
          lastCustomerMessageAt: sql`greatest(${cases.lastCustomerMessageAt}, ${ts(msg.sentAt)})`,
          cardVersion: sql`${cases.cardVersion} + 1`,
          updatedAt: now,
        })
        .where(
          and(
            eq(cases.sourceKey, msg.sourceKey),
            eq(cases.conversationId, msg.conversationId),
            ne(cases.status, 'resolved'),
          ),
        )
        .returning();
      // The case as this transaction changed it, when known, saves reading it again below.
      let row: { id: number; opened: boolean; reopened?: boolean; current?: CaseRow } | undefined = open
        ? { id: open.id, opened: false, current: open }
        : undefined;
      let previousCaseId: number | null = null;
      if (!row) {
        const [previous] = await tx
          .select({ id: cases.id, resolvedAt: cases.resolvedAt })
          .from(cases)
          .where(and(eq(cases.sourceKey, msg.sourceKey), eq(cases.conversationId, msg.conversationId)))
          .orderBy(desc(cases.id))
          .limit(1);
        previousCaseId = previous?.id ?? null;
        const recent =
          previous?.resolvedAt &&
          now.getTime() - previous.resolvedAt.getTime() <= (options.reopenWithin ?? 0);
        if (previous && recent) {
          const [reopened] = await tx
            .update(cases)
            .set({
              status: 'open',
              resolvedAt: null,
              lastCustomerMessageAt: sql`greatest(${cases.lastCustomerMessageAt}, ${ts(msg.sentAt)})`,
              cardVersion: sql`${cases.cardVersion} + 1`,
              updatedAt: now,
            })
            .where(and(eq(cases.id, previous.id), eq(cases.status, 'resolved')))
            .returning();
          if (reopened) row = { id: reopened.id, opened: false, reopened: true, current: reopened };
        }
      }
      if (!row) {
        [row] = await queryRows<{ id: number; opened: boolean }>(
          tx,
          sql`insert into ${cases} (source_key, platform, conversation_id, channel_id, opened_at,
                last_customer_message_at, previous_case_id, created_at, updated_at)
              values (${msg.sourceKey}, ${msg.platform}, ${msg.conversationId}, ${msg.channelId}, ${ts(now)},
                ${ts(msg.sentAt)}, ${previousCaseId}, ${ts(now)}, ${ts(now)})
              on conflict (source_key, conversation_id) where status <> 'resolved'
              do update set last_customer_message_at = greatest(${cases.lastCustomerMessageAt}, excluded.last_customer_message_at),
                card_version = ${cases.cardVersion} + 1,
                updated_at = excluded.updated_at
              returning id, (xmax = 0) as opened`,
        );
      }
      if (!row) throw new Error('case upsert returned no row');
      const caseId = Number(row.id);
      const [inserted] = await tx
        .insert(messages)
        .values({
          caseId,
          kind: 'inbound',
          sourceKey: msg.sourceKey,
          externalId: msg.externalId,
          authorId: msg.author.id,
          authorName: msg.author.name ?? null,
          authorHandle: msg.author.handle ?? null,
          authorUrl: msg.author.url ?? null,
          authorFollowers: msg.author.followers ?? null,
          text: msg.text,
          url: msg.url ?? null,
          sentAt: msg.sentAt,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: messages.id });
      // Lost a race with the same message arriving at the same moment: undo the case change too.
      if (!inserted) throw new DuplicateMessage();
      const opened = row.opened;
      if (row.reopened) {
        await logEvent(tx, caseId, 'reopened', 'customer', now, { messageId: inserted.id });
      }
      await logEvent(tx, caseId, opened ? 'opened' : 'customer_message', 'customer', now, {
        messageId: inserted.id,
        externalId: msg.externalId,
        ...(opened && previousCaseId ? { previousCaseId } : {}),
      });
      let current = row.current;
      if (options.rules) {
        const a = assessment ?? assess({ text: msg.text, followers: msg.author.followers }, options.rules);
        current = await applyAssessment(tx, caseId, a, opened, now, options.sla, current);
        escalate = a.escalate;
        reasonsByRule = a.reasons;
      }
      if (options.sla) {
        await applyInboundSla(
          tx,
          caseId,
          { opened: opened, reopened: Boolean(row.reopened) },
          now,
          options.sla,
          current,
        );
      }
      if (!opened) {
        await tx.insert(slackOutbox).values({
          caseId,
          key: `message:${inserted.id}`,
          kind: 'customer_message',
          refId: inserted.id,
          createdAt: now,
        });
      }
      return { caseId, messageId: inserted.id, duplicate: false, opened };
    });
  } catch (err) {
    if (!(err instanceof DuplicateMessage)) throw err;
    const winner = await findInbound(db, msg);
    if (!winner) throw err;
    return { caseId: winner.caseId, messageId: winner.id, duplicate: true, opened: false };
  }
  // The escalation tree: each rule pulls its team in once per case, whatever message hit it.
  for (const { team, rule } of escalate) {
    await escalateCase(db, clock, {
      caseId: recorded.caseId,
      teamKey: team,
      note: `Escalation rule: ${reasonsByRule.find((r) => r.includes(`→ ${team}`)) ?? 'a rule matched'}.`,
      userId: 'carebot',
      requestKey: `rule:${recorded.caseId}:${rule}`,
    });
  }
  return recorded;
}

/**
 * The common case of a burst, a message that starts a new conversation, in one statement: the
 * case with its priority and SLA deadlines computed here, the message and the case's first events.
 * Returns undefined, having written nothing, whenever the general path must decide: the
 * conversation has an open or recently resolved case, the message is already stored, or another
 * message of the same conversation is being stored at the same moment.
 */
async function openConversation(
  db: Database,
  now: Date,
  msg: InboundMessage,
  a: Assessment | undefined,
  options: { reopenWithin?: Duration; sla?: SlaSettings },
): Promise<RecordedInbound | undefined> {
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
  try {
    const [row] = await queryRowsPrepared<{ case_id: number; message_id: number }>(
      db,
      sql`with latest as (
            select id, status, resolved_at from ${cases}
            where source_key = ${msg.sourceKey} and conversation_id = ${msg.conversationId}
            order by id desc limit 1
          ),
          c as (
            insert into ${cases} (source_key, platform, conversation_id, channel_id, opened_at,
              last_customer_message_at, previous_case_id, priority, priority_reasons,
              first_response_due_at, resolution_due_at, sla_next_check_at, created_at, updated_at)
            select ${msg.sourceKey}, ${msg.platform}, ${msg.conversationId}, ${msg.channelId}, ${ts(now)},
              ${ts(msg.sentAt)}, (select id from latest), ${priority}, ${JSON.stringify(a?.reasons ?? [])}::jsonb,
              ${optionalTs(deadlines?.firstResponseDueAt)}, ${optionalTs(deadlines?.resolutionDueAt)},
              ${optionalTs(deadlines ? now : undefined)}, ${ts(now)}, ${ts(now)}
            where not exists (
                select 1 from ${messages}
                where source_key = ${msg.sourceKey} and external_id = ${msg.externalId} and kind = 'inbound')
              and not exists (
                select 1 from latest
                where status <> 'resolved' or resolved_at >= ${ts(reopenCutoff)})
            on conflict (source_key, conversation_id) where status <> 'resolved' do nothing
            returning id, previous_case_id
          ),
          m as (
            insert into ${messages} (case_id, kind, source_key, external_id, author_id, author_name,
              author_handle, author_url, author_followers, text, url, sent_at, created_at)
            select id, 'inbound', ${msg.sourceKey}, ${msg.externalId}, ${msg.author.id},
              ${msg.author.name ?? null}, ${msg.author.handle ?? null}, ${msg.author.url ?? null},
              ${msg.author.followers ?? null}::integer, ${msg.text}, ${msg.url ?? null}, ${ts(msg.sentAt)}, ${ts(now)}
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
          select c.id as case_id, m.id as message_id from c join m on m.case_id = c.id`,
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

/** The SQLSTATE of a database error, from either driver (drizzle may wrap it). */
function pgCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/**
 * Records a message's priority assessment on its case: a new case takes it as is; a later message
 * can raise the priority (never lower it; that is for people), which re-times running SLA clocks.
 */
async function applyAssessment(
  tx: Tx,
  caseId: number,
  a: Assessment,
  opened: boolean,
  now: Date,
  sla: SlaSettings | undefined,
  known?: CaseRow,
): Promise<CaseRow | undefined> {
  const current = known ?? (await getCase(tx, caseId));
  if (!current) return undefined;
  const priority = opened ? a.priority : higher(current.priority, a.priority);
  const reasons = [...new Set([...(opened ? [] : current.priorityReasons), ...a.reasons])];
  if (!opened && priority === current.priority && reasons.length === current.priorityReasons.length)
    return current;
  const [updated] = await tx
    .update(cases)
    .set({
      priority,
      priorityReasons: reasons,
      cardVersion: sql`${cases.cardVersion} + 1`,
      ...(!opened && priority !== current.priority && sla
        ? deadlinesForPriority(current, sla, priority)
        : {}),
      slaNextCheckAt: now,
    })
    .where(eq(cases.id, caseId))
    .returning();
  // A plain P3 case with nothing notable about it needs no log line.
  if ((opened && (priority !== 'P3' || a.reasons.length > 0)) || (!opened && priority !== current.priority)) {
    await logEvent(tx, caseId, 'priority_set', 'carebot', now, { priority, reasons: a.reasons });
  }
  return updated;
}

export type PriorityResult =
  | { kind: 'changed'; case: CaseRow }
  | { kind: 'unchanged' }
  | { kind: 'not_found' };

/** An agent sets the priority; running SLA clocks are re-timed with the new targets. */
export async function setPriority(
  db: Database,
  clock: Clock,
  input: { caseId: number; priority: Priority; userId: string; sla?: SlaSettings | undefined },
): Promise<PriorityResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const current = await getCase(tx, input.caseId);
    if (!current) return { kind: 'not_found' };
    if (current.priority === input.priority) return { kind: 'unchanged' };
    const [changed] = await tx
      .update(cases)
      .set({
        priority: input.priority,
        ...(input.sla && current.status === 'open'
          ? deadlinesForPriority(current, input.sla, input.priority)
          : {}),
        slaNextCheckAt: current.status === 'open' ? now : null,
        cardVersion: sql`${cases.cardVersion} + 1`,
        updatedAt: now,
      })
      .where(eq(cases.id, input.caseId))
      .returning();
    if (!changed) return { kind: 'not_found' };
    await logEvent(tx, input.caseId, 'priority_changed', input.userId, now, {
      from: current.priority,
      to: input.priority,
    });
    return { kind: 'changed', case: changed };
  });
}

async function findInbound(db: Database, msg: InboundMessage) {
  const [row] = await db
    .select({ id: messages.id, caseId: messages.caseId })
    .from(messages)
    .where(
      and(
        eq(messages.sourceKey, msg.sourceKey),
        eq(messages.externalId, msg.externalId),
        eq(messages.kind, 'inbound'),
      ),
    );
  return row;
}

export type ClaimResult =
  | { kind: 'claimed'; case: CaseRow }
  | { kind: 'already_owner'; case: CaseRow }
  | { kind: 'owned_by_other'; ownerId: string }
  | { kind: 'resolved' }
  | { kind: 'not_found' };

/** Makes `userId` the owner of an unowned open case. Two people claiming at once: the first wins. */
export async function claimCase(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
): Promise<ClaimResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(cases)
      .set({ ownerId: userId, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(and(eq(cases.id, caseId), sql`${cases.ownerId} is null`, eq(cases.status, 'open')))
      .returning();
    if (claimed) {
      await logEvent(tx, caseId, 'claimed', userId, now);
      return { kind: 'claimed', case: claimed };
    }
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    if (current.status === 'resolved') return { kind: 'resolved' };
    if (current.ownerId === userId) return { kind: 'already_owner', case: current };
    return { kind: 'owned_by_other', ownerId: current.ownerId as string };
  });
}

export type UnclaimResult =
  | { kind: 'unclaimed'; case: CaseRow }
  | { kind: 'not_owner'; ownerId: string | null }
  | { kind: 'not_found' };

/** Lets go of a case; only its owner can, so nobody drops someone else's customer by a stray click. */
export async function unclaimCase(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
  /** Posted in the thread, so the team sees who let go (Slack formatting is the caller's). */
  slackText?: string,
): Promise<UnclaimResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [released] = await tx
      .update(cases)
      .set({ ownerId: null, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(and(eq(cases.id, caseId), eq(cases.ownerId, userId)))
      .returning();
    if (released) {
      if (slackText) await announce(tx, { caseId, type: 'unclaimed', actor: userId, at: now, slackText });
      else await logEvent(tx, caseId, 'unclaimed', userId, now);
      return { kind: 'unclaimed', case: released };
    }
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    return { kind: 'not_owner', ownerId: current.ownerId };
  });
}

export type EscalateResult =
  | { kind: 'escalated'; escalationId: number }
  | { kind: 'duplicate' }
  | { kind: 'not_found' };

/** Records an escalation to a team and queues its mention in the case's thread. */
export async function escalateCase(
  db: Database,
  clock: Clock,
  input: {
    caseId: number;
    teamKey: string;
    note: string;
    userId: string;
    requestKey?: string;
    urgency?: 'normal' | 'urgent';
  },
): Promise<EscalateResult> {
  const now = clock.now();
  try {
    return await escalateOnce(db, now, input);
  } catch (err) {
    if (err instanceof TransactionRollbackError) return { kind: 'duplicate' };
    throw err;
  }
}

function escalateOnce(
  db: Database,
  now: Date,
  input: {
    caseId: number;
    teamKey: string;
    note: string;
    userId: string;
    requestKey?: string;
    urgency?: 'normal' | 'urgent';
  },
): Promise<EscalateResult> {
  return db.transaction(async (tx) => {
    const [bumped] = await tx
      .update(cases)
      .set({ cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(eq(cases.id, input.caseId))
      .returning({ id: cases.id });
    if (!bumped) return { kind: 'not_found' };
    const [escalation] = await tx
      .insert(escalations)
      .values({
        caseId: input.caseId,
        teamKey: input.teamKey,
        note: input.note,
        requestedBy: input.userId,
        requestKey: input.requestKey ?? null,
        urgency: input.urgency ?? 'normal',
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: escalations.id });
    // The same request again (Slack resending a submission): keep the first, undo the card bump.
    if (!escalation) return tx.rollback();
    await logEvent(tx, input.caseId, 'escalated', input.userId, now, {
      escalationId: escalation.id,
      team: input.teamKey,
    });
    await tx.insert(slackOutbox).values({
      caseId: input.caseId,
      key: `escalation:${escalation.id}`,
      kind: 'escalation',
      refId: escalation.id,
      createdAt: now,
    });
    return { kind: 'escalated', escalationId: escalation.id };
  });
}

export async function getCase(db: Database | Tx, caseId: number): Promise<CaseRow | undefined> {
  const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
  return row;
}

/** What a case's card shows. */
export interface CaseView {
  case: CaseRow;
  firstMessage: MessageRow;
  messageCount: number;
  escalatedTo: string[];
  /** Teams still to answer, with the time the case started waiting on them. */
  waiting: Array<{ teamKey: string; since: Date }>;
  /** The incident the case is part of, and whether any is open (for the card's Link button). */
  incident?: Awaited<ReturnType<typeof incidentOfCase>> | undefined;
}

export async function loadCaseView(db: Database, caseId: number): Promise<CaseView | undefined> {
  const row = await getCase(db, caseId);
  if (!row) return undefined;
  const [first] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.caseId, caseId), eq(messages.kind, 'inbound')))
    .orderBy(asc(messages.id))
    .limit(1);
  if (!first) return undefined;
  const [count] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(messages)
    .where(and(eq(messages.caseId, caseId), eq(messages.kind, 'inbound')));
  const teams = await db
    .selectDistinct({ teamKey: escalations.teamKey })
    .from(escalations)
    .where(eq(escalations.caseId, caseId));
  return {
    case: row,
    firstMessage: first,
    messageCount: count?.n ?? 1,
    escalatedTo: teams.map((t) => t.teamKey).sort(),
    waiting: await waitingOn(db, caseId),
    incident: await incidentOfCase(db, caseId),
  };
}

export async function logEvent(
  tx: Tx,
  caseId: number,
  type: string,
  actor: string,
  at: Date,
  data: Record<string, unknown> = {},
): Promise<void> {
  await tx.insert(caseEvents).values({ caseId, type, actor, data, at });
}

export type ResolveResult =
  | { kind: 'resolved'; case: CaseRow }
  | { kind: 'already_resolved' }
  | { kind: 'not_found' };

/** Marks a case resolved; its thread stays, and a customer's next message reopens it for a while. */
export async function resolveCase(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
  sla?: SlaSettings,
): Promise<ResolveResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [resolved] = await tx
      .update(cases)
      .set({
        status: 'resolved',
        resolvedAt: now,
        cardVersion: sql`${cases.cardVersion} + 1`,
        updatedAt: now,
      })
      .where(and(eq(cases.id, caseId), eq(cases.status, 'open')))
      .returning();
    if (resolved) {
      await logEvent(tx, caseId, 'resolved', userId, now);
      // Resolving stops every clock. A first response never given stays missing (it does not start
      // again on a reopen); the resolution clock keeps what it had left, and its deadline, so a
      // reopen continues it without repeating a breach.
      for (const [clockName, due] of [
        ['first_response', resolved.firstResponseAt ? null : resolved.firstResponseDueAt],
        ['next_response', resolved.nextResponseDueAt],
        ['resolution', resolved.resolutionDueAt],
      ] as const) {
        if (due)
          await logEvent(tx, caseId, 'sla_stopped', 'carebot', now, { clock: clockName, met: now <= due });
      }
      await tx
        .update(cases)
        .set({
          firstResponseDueAt: resolved.firstResponseAt ? resolved.firstResponseDueAt : null,
          nextResponseStartedAt: null,
          nextResponseDueAt: null,
          resolutionRemainingMs: sla ? resolutionRemaining(resolved.resolutionDueAt, now, sla) : null,
          slaNextCheckAt: null,
        })
        .where(eq(cases.id, caseId));
      return { kind: 'resolved', case: resolved };
    }
    return (await getCase(tx, caseId)) ? { kind: 'already_resolved' } : { kind: 'not_found' };
  });
}

export type ReopenResult =
  | { kind: 'reopened'; case: CaseRow }
  | { kind: 'already_open' }
  | { kind: 'newer_case_open'; caseId: number }
  | { kind: 'not_found' };

/** Reopens a resolved case, unless the conversation has moved on to a newer open case. */
export async function reopenCase(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
  sla?: SlaSettings,
): Promise<ReopenResult> {
  const now = clock.now();
  const current = await getCase(db, caseId);
  if (!current) return { kind: 'not_found' };
  if (current.status === 'open') return { kind: 'already_open' };
  const [newer] = await db
    .select({ id: cases.id })
    .from(cases)
    .where(
      and(
        eq(cases.sourceKey, current.sourceKey),
        eq(cases.conversationId, current.conversationId),
        eq(cases.status, 'open'),
      ),
    );
  if (newer) return { kind: 'newer_case_open', caseId: newer.id };
  return db.transaction(async (tx) => {
    const [reopened] = await tx
      .update(cases)
      .set({ status: 'open', resolvedAt: null, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(and(eq(cases.id, caseId), eq(cases.status, 'resolved')))
      .returning();
    if (!reopened) return { kind: 'already_open' };
    await logEvent(tx, caseId, 'reopened', userId, now);
    if (sla) {
      await tx
        .update(cases)
        .set({
          resolutionDueAt: reopened.resolutionRemainingMs
            ? continuedResolutionDue(reopened.resolutionRemainingMs, now, sla)
            : reopened.resolutionDueAt,
          resolutionRemainingMs: null,
          slaNextCheckAt: now,
        })
        .where(eq(cases.id, caseId));
    }
    return { kind: 'reopened', case: reopened };
  });
}

export type RepliedOnSiteResult =
  | { kind: 'recorded'; case: CaseRow }
  | { kind: 'not_owner'; ownerId: string }
  | { kind: 'not_found' };

/**
 * For platforms carebot cannot post to (forums, blogs): the agent answered on the site and says
 * so. It counts as a reply that reached the customer; an unclaimed case becomes theirs.
 */
export async function recordRepliedOnSite(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
): Promise<RepliedOnSiteResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(cases)
      .set({
        ownerId: sql`coalesce(${cases.ownerId}, ${userId})`,
        lastReplyAt: now,
        cardVersion: sql`${cases.cardVersion} + 1`,
        updatedAt: now,
      })
      .where(and(eq(cases.id, caseId), sql`(${cases.ownerId} is null or ${cases.ownerId} = ${userId})`))
      .returning();
    if (updated) {
      await logEvent(tx, caseId, 'replied_on_site', userId, now);
      await stopResponseClocks(tx, caseId, now);
      return { kind: 'recorded', case: updated };
    }
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    return { kind: 'not_owner', ownerId: current.ownerId as string };
  });
}

/** Moves a public conversation to private messages; later replies go by DM. */
export async function moveToPrivate(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
): Promise<{ kind: 'moved' } | { kind: 'not_owner'; ownerId: string | null } | { kind: 'not_found' }> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [moved] = await tx
      .update(cases)
      .set({ replyMode: 'private', cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(and(eq(cases.id, caseId), eq(cases.ownerId, userId), eq(cases.replyMode, 'public')))
      .returning({ id: cases.id });
    if (moved) {
      await logEvent(tx, caseId, 'moved_to_private', userId, now);
      return { kind: 'moved' };
    }
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    return current.replyMode === 'private'
      ? { kind: 'moved' }
      : { kind: 'not_owner', ownerId: current.ownerId };
  });
}

/**
 * Starts or continues SLA clocks after a customer's message: a new case gets its first-response and
 * resolution deadlines; a message after a reply starts the next-response clock; a reopened case
 * continues its resolution clock with the time it had left.
 */
async function applyInboundSla(
  tx: Tx,
  caseId: number,
  how: { opened: boolean; reopened: boolean },
  now: Date,
  s: SlaSettings,
  known?: CaseRow,
): Promise<void> {
  const current = known ?? (await getCase(tx, caseId));
  if (!current) return;
  const set: Partial<typeof cases.$inferInsert> = {};
  const started: string[] = [];
  if (how.opened) {
    Object.assign(set, openingDeadlines(current.openedAt, s, current.priority));
    started.push('first_response', 'resolution');
  } else {
    if (how.reopened) {
      set.resolutionDueAt = current.resolutionRemainingMs
        ? continuedResolutionDue(current.resolutionRemainingMs, now, s)
        : current.resolutionDueAt;
      set.resolutionRemainingMs = null;
      started.push('resolution');
    }
    if (current.firstResponseAt && !current.nextResponseDueAt) {
      set.nextResponseStartedAt = now;
      set.nextResponseDueAt = nextResponseDue(now, s, current.priority);
      started.push('next_response');
    }
  }
  if (started.length === 0) return;
  set.slaNextCheckAt = now;
  await tx.update(cases).set(set).where(eq(cases.id, caseId));
  await logEvent(tx, caseId, 'sla_started', 'carebot', now, {
    clocks: started,
    ...(set.firstResponseDueAt ? { firstResponseDueAt: set.firstResponseDueAt.toISOString() } : {}),
    ...(set.nextResponseDueAt ? { nextResponseDueAt: set.nextResponseDueAt.toISOString() } : {}),
    ...(set.resolutionDueAt ? { resolutionDueAt: set.resolutionDueAt.toISOString() } : {}),
  });
}

/** A reply reached the customer (or was made on the site): the response clocks stop. */
export async function stopResponseClocks(tx: Tx, caseId: number, now: Date): Promise<void> {
  const current = await getCase(tx, caseId);
  if (!current) return;
  const stopped: Array<{ clock: string; met: boolean }> = [];
  if (!current.firstResponseAt && current.firstResponseDueAt) {
    stopped.push({ clock: 'first_response', met: now <= current.firstResponseDueAt });
  }
  if (current.nextResponseDueAt)
    stopped.push({ clock: 'next_response', met: now <= current.nextResponseDueAt });
  await tx
    .update(cases)
    .set({
      firstResponseAt: current.firstResponseAt ?? now,
      nextResponseStartedAt: null,
      nextResponseDueAt: null,
      slaState: current.slaState === 'breached' ? 'breached' : 'ok',
    })
    .where(eq(cases.id, caseId));
  for (const s of stopped) await logEvent(tx, caseId, 'sla_stopped', 'carebot', now, s);
}

/**
 * A customer edited or removed a message carebot holds: the record follows the platform (the old
 * text stays in the event log) and the thread is told, through `slackText`.
 */
export async function recordCustomerChange(
  db: Database,
  clock: Clock,
  change: { kind: 'edited' | 'removed'; sourceKey: string; externalId: string; text?: string | undefined },
  slackText: (change: { kind: 'edited' | 'removed'; text?: string | undefined }) => string,
): Promise<boolean> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [message] = await tx
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.sourceKey, change.sourceKey),
          eq(messages.externalId, change.externalId),
          eq(messages.kind, 'inbound'),
        ),
      );
    if (!message) return false;
    if (change.kind === 'edited' && (change.text === undefined || change.text === message.text)) return false;
    if (change.kind === 'edited') {
      await tx
        .update(messages)
        .set({ text: change.text ?? message.text })
        .where(eq(messages.id, message.id));
    }
    await announce(tx, {
      caseId: message.caseId,
      type: change.kind === 'edited' ? 'customer_edited' : 'customer_removed',
      actor: 'customer',
      at: now,
      data: { messageId: message.id, externalId: change.externalId, previousText: message.text },
      slackText: slackText(change),
    });
    await tx
      .update(cases)
      .set({ cardVersion: sql`${cases.cardVersion} + 1` })
      .where(eq(cases.id, message.caseId));
    return true;
  });
}
