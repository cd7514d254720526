import { and, desc, eq, ne, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { type CaseRow, cases, messages, slackOutbox } from '../db/schema.js';
import { type Tx, ts } from '../db/tx.js';
import { toWellFormed } from '../http/well-formed.js';
import { applyInboundSla } from './case-clocks.js';
import { openConversation } from './case-opening.js';
import { announce, getCase, logEvent } from './case-store.js';
import type { Clock, Duration } from './clock.js';
import { recordRatingAnswer, withdrawRatingQuestion } from './csat.js';
import { customerPlatform, ensureCustomer, raisedOneStep, VIP_REASON } from './customers.js';
import { escalateCase } from './escalations.js';
import {
  type InboundMessage,
  inboundRow,
  MAX_FACT_LENGTH,
  MAX_FACTS,
  type RecordedInbound,
} from './inbound.js';
import type { EscalationRule } from './priority.js';
import { type Assessment, assess, higher } from './priority.js';
import { deadlinesForPriority, type SlaSettings } from './sla.js';
import { endWaitingOnCustomerMessage } from './waiting.js';

/**
 * A customer's message reaching carebot: stored once, it joins its conversation's open case,
 * reopens a recently resolved one or opens a new case; its priority and SLA clocks follow, and
 * the escalation rules it matches pull their teams in. A customer's later edit or removal follows.
 */

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
    quickReply: clean(msg.quickReply),
    facts: msg.facts
      ?.filter((f) => f.trim() !== '')
      .slice(0, MAX_FACTS)
      .map((f) => clean(Array.from(f).slice(0, MAX_FACT_LENGTH).join(''))),
    author: {
      ...msg.author,
      id: clean(msg.author.id),
      name: clean(msg.author.name),
      handle: clean(msg.author.handle),
      url: clean(msg.author.url),
    },
  };
}

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
    ? assess({ text: msg.text, followers: msg.author.followers, floor: msg.priority }, options.rules)
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
          .select({ id: cases.id, resolvedAt: cases.resolvedAt, status: cases.status })
          .from(cases)
          .where(and(eq(cases.sourceKey, msg.sourceKey), eq(cases.conversationId, msg.conversationId)))
          .orderBy(desc(cases.id))
          .limit(1);
        previousCaseId = previous?.id ?? null;
        // An answer to the case's rating question is kept on it and does not reopen it.
        const answer =
          previous?.status === 'resolved' ? await recordRatingAnswer(tx, previous.id, msg, now) : undefined;
        if (previous && answer !== undefined)
          return { caseId: previous.id, messageId: answer, duplicate: false, opened: false };
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
      let customer: { id: number; vip: boolean } | undefined;
      if (!row) {
        customer = await ensureCustomer(
          tx,
          { platform: customerPlatform(msg), authorId: msg.author.id },
          now,
        );
        [row] = await queryRows<{ id: number; opened: boolean }>(
          tx,
          sql`insert into ${cases} (source_key, platform, conversation_id, channel_id, opened_at,
                last_customer_message_at, previous_case_id, customer_id, created_at, updated_at)
              values (${msg.sourceKey}, ${msg.platform}, ${msg.conversationId}, ${msg.channelId}, ${ts(now)},
                ${ts(msg.sentAt)}, ${previousCaseId}, ${customer.id}, ${ts(now)}, ${ts(now)})
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
        .values(inboundRow(caseId, msg, now))
        .onConflictDoNothing()
        .returning({ id: messages.id });
      // Lost a race with the same message arriving at the same moment: undo the case change too.
      if (!inserted) throw new DuplicateMessage();
      const opened = row.opened;
      if (row.reopened) {
        await logEvent(tx, caseId, 'reopened', 'customer', now, { messageId: inserted.id });
        await withdrawRatingQuestion(tx, caseId, 'customer', now);
      }
      await logEvent(tx, caseId, opened ? 'opened' : 'customer_message', 'customer', now, {
        messageId: inserted.id,
        externalId: msg.externalId,
        ...(opened && previousCaseId ? { previousCaseId } : {}),
      });
      let current = row.current;
      // A VIP's new case starts one step higher, and says why.
      const vip = opened && customer?.vip === true;
      if (options.rules || vip) {
        let a =
          assessment ??
          (options.rules
            ? assess({ text: msg.text, followers: msg.author.followers, floor: msg.priority }, options.rules)
            : { priority: 'P3' as const, reasons: [], escalate: [] });
        if (vip) a = { ...a, priority: raisedOneStep(a.priority), reasons: [...a.reasons, VIP_REASON] };
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
      // A customer who answers ends the team's wait on them (the thread hears it after their
      // message); the clocks run again.
      if (row.current?.waitingSince) {
        const latest = await getCase(tx, caseId);
        if (latest) await endWaitingOnCustomerMessage(tx, latest, now, options.sla);
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

/**
 * The conversation of a message carebot holds on a source (a customer's post, or a reply it sent),
 * by its platform id: webhooks and notifications that name only the post a new one answers join
 * that conversation's case. Unknown ids give undefined.
 */
export async function conversationOfMessage(
  db: Database,
  sourceKey: string,
  externalId: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ conversationId: cases.conversationId })
    .from(messages)
    .innerJoin(cases, eq(cases.id, messages.caseId))
    .where(and(eq(messages.sourceKey, sourceKey), eq(messages.externalId, externalId)))
    .limit(1);
  return row?.conversationId;
}

/** Whether carebot holds this customer message already (a source may skip lookups for a redelivery). */
export async function isInboundStored(db: Database, sourceKey: string, externalId: string): Promise<boolean> {
  return (await findInbound(db, { sourceKey, externalId })) !== undefined;
}

async function findInbound(db: Database, msg: Pick<InboundMessage, 'sourceKey' | 'externalId'>) {
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
