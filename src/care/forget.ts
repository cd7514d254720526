import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import {
  type CaseRow,
  caseEvents,
  cases,
  customers,
  escalations,
  messages,
  replies,
  slackOutbox,
} from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { getCase, logEvent } from './case-store.js';
import type { Clock, Duration } from './clock.js';
import { forgetCustomers, personGroup } from './customers.js';
import { redactCrisisSamples } from './forget-notices.js';

/**
 * The customer's right to be forgotten, and keeping their words no longer than needed
 * (docs/features/forget.md). Erasing a case overwrites everything in it that a customer wrote or
 * that may quote them (their messages, names, handles, links, the replies and notes written to
 * them, escalation notes and answers, the quoting parts of the event log) with one fixed marker,
 * and keeps the rest: counts, times, priorities, owners and SLA figures, so `/care-stats` adds up
 * the same before and after. The Slack card and the thread messages that showed those words are
 * queued for `chat.update` through the Slack sync, so a 429 or a restart only delays them.
 */

export const REMOVED_TEXT = "[removed at the customer's request]";
/** What an erased customer's author id becomes: nothing that points back at them. */
export const REMOVED_AUTHOR = 'removed';

/** Event types whose `slackText` quotes a customer or an answer to them (the rest is carebot's own). */
const QUOTING_EVENTS = [
  'customer_edited',
  'customer_removed',
  'escalation_answered',
  // A customer note quotes what the team knows of them; links name the linked accounts.
  'customer_note_set',
  'customer_linked',
  'customer_unlinked',
  // A trainee's reply approved with edits (it quotes the text), or rejected with a note.
  'reply_edited_approved',
  'reply_rejected',
];
/** Event data keys that hold someone's words. */
const QUOTING_KEYS = ['previousText', 'answer', 'text', 'note'];

export type ForgetResult =
  | { kind: 'not_found' }
  | { kind: 'forgotten'; caseIds: number[]; cancelledReplies: number };

/**
 * `/care forget <case>`: erases every case of that case's customer (the authors of its inbound
 * messages, on its platform), in one transaction. Whoever asked is recorded on each case, not what
 * was erased. A second forget of the same case finds nothing left and erases that case again
 * (harmless).
 */
export async function forgetCustomer(
  db: Database,
  clock: Clock,
  input: { caseId: number; actor: string },
): Promise<ForgetResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const start = await getCase(tx, input.caseId);
    if (!start) return { kind: 'not_found' };
    const { caseIds, customerIds } = await customerScope(tx, start);
    const cancelledReplies = await eraseCases(tx, caseIds, now);
    await forgetCustomers(tx, customerIds, now);
    for (const caseId of caseIds) {
      await logEvent(tx, caseId, 'customer_forgotten', input.actor, now, {
        requestedOn: start.id,
        cases: caseIds.length,
      });
    }
    return { kind: 'forgotten', caseIds, cancelledReplies };
  });
}

/**
 * `retention.customer_text`: erases, in batches, resolved cases resolved before `now - keepFor`
 * that were not erased yet. Cases are taken with `FOR UPDATE SKIP LOCKED`, so two instances
 * running it at once share the work and never erase a case twice. Returns how many it erased.
 */
export async function expireCustomerText(
  db: Database,
  clock: Clock,
  input: { keepFor: Duration; batchSize?: number; maxBatches?: number },
): Promise<number> {
  const batchSize = input.batchSize ?? 200;
  const maxBatches = input.maxBatches ?? 1000;
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const now = clock.now();
    const cutoff = new Date(now.getTime() - input.keepFor);
    const erased = await db.transaction(async (tx) => {
      const due = await tx
        .select({ id: cases.id })
        .from(cases)
        .where(
          and(
            eq(cases.status, 'resolved'),
            sql`${cases.resolvedAt} < ${cutoff.toISOString()}::timestamptz`,
            sql`not exists (select 1 from ${caseEvents} e where e.case_id = ${cases.id}
                  and e.type in ('customer_forgotten', 'customer_text_expired'))`,
          ),
        )
        .orderBy(cases.resolvedAt)
        .limit(batchSize)
        .for('update', { skipLocked: true });
      const ids = due.map((c) => c.id);
      if (!ids.length) return 0;
      await eraseCases(tx, ids, now);
      for (const caseId of ids) await logEvent(tx, caseId, 'customer_text_expired', 'carebot', now);
      return ids.length;
    });
    total += erased;
    if (erased < batchSize) break;
  }
  return total;
}

/**
 * Overwrites what customers wrote in these cases, cancels replies still waiting to go to them, and
 * queues the Slack updates. Returns how many replies it cancelled. The caller logs the event.
 */
async function eraseCases(tx: Tx, caseIds: number[], now: Date): Promise<number> {
  if (!caseIds.length) return 0;
  // Lock the cases first, in id order, so a concurrent erasure or inbound message waits.
  await tx
    .select({ id: cases.id })
    .from(cases)
    .where(inArray(cases.id, caseIds))
    .orderBy(cases.id)
    .for('update');
  await tx
    .update(messages)
    .set({
      text: REMOVED_TEXT,
      authorName: null,
      authorHandle: null,
      authorUrl: null,
      authorFollowers: null,
      facts: null,
      url: null,
      // Agents' Slack ids (notes, outbound) stay: they count in the stats.
      authorId: sql`case when ${messages.kind} = 'inbound' then ${REMOVED_AUTHOR} else ${messages.authorId} end`,
    })
    .where(inArray(messages.caseId, caseIds));
  const cancelled = await tx
    .update(replies)
    .set({ status: 'cancelled', leaseUntil: null, leaseToken: null, updatedAt: now })
    .where(
      and(
        inArray(replies.caseId, caseIds),
        inArray(replies.status, ['held', 'pending', 'sending', 'awaiting_approval']),
      ),
    )
    .returning({ id: replies.id, caseId: replies.caseId });
  await tx
    .update(replies)
    .set({ text: REMOVED_TEXT, externalUrl: null })
    .where(inArray(replies.caseId, caseIds));
  await tx
    .update(escalations)
    .set({
      note: REMOVED_TEXT,
      answer: sql`case when ${escalations.answer} is null then null else ${REMOVED_TEXT} end`,
    })
    .where(inArray(escalations.caseId, caseIds));
  await tx.execute(sql`
    update ${caseEvents} e set data = (
      select coalesce(jsonb_object_agg(k, case
          when k = any(${sql.raw(pgArray(QUOTING_KEYS))})
            or (k = 'slackText' and e.type = any(${sql.raw(pgArray(QUOTING_EVENTS))}))
          then to_jsonb(${REMOVED_TEXT}::text) else v end), '{}'::jsonb)
      from jsonb_each(e.data) as d(k, v))
    where e.case_id in (${sql.join(
      caseIds.map((id) => sql`${id}`),
      sql`, `,
    )})
      and e.data ?| ${sql.raw(pgArray([...QUOTING_KEYS, 'slackText']))}`);
  for (const r of cancelled)
    await logEvent(tx, r.caseId, 'reply_cancelled', 'carebot', now, {
      replyId: r.id,
      why: 'customer_forgotten',
    });
  // The conversation id can name the customer (a DM between two user ids); a unique stand-in keeps
  // the one-open-case-per-conversation key satisfied, and a new message there opens a new case.
  await tx
    .update(cases)
    .set({
      conversationId: sql`'removed:' || ${cases.id}`,
      cardVersion: sql`${cases.cardVersion} + 1`,
      updatedAt: now,
    })
    .where(inArray(cases.id, caseIds));
  // Every thread message carebot already posted for these cases is rendered again from the erased
  // rows and updated in place (`redact` rows; the Slack sync does them in order with the others).
  await tx.execute(sql`
    insert into ${slackOutbox} (case_id, key, kind, ref_id, created_at)
    select o.case_id, 'redact:' || o.id, 'redact', o.id, ${now.toISOString()}::timestamptz
    from ${slackOutbox} o
    where o.case_id in (${sql.join(
      caseIds.map((id) => sql`${id}`),
      sql`, `,
    )})
      and o.kind <> 'redact' and o.posted_ts is not null and o.posted_ts <> ''
    on conflict (key) do nothing`);
  await redactCrisisSamples(tx, caseIds, REMOVED_TEXT, now);
  return cancelled.length;
}

const pgArray = (values: readonly string[]) =>
  `array[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]::text[]`;

/** What the forget modal says before anything is erased: which case, how many of theirs, no words. */
export async function forgetPreview(
  db: Database,
  caseId: number,
): Promise<{ caseId: number; platform: string; cases: number; messages: number } | undefined> {
  const start = await getCase(db, caseId);
  if (!start) return undefined;
  const caseIds = await customerCaseIds(db, start);
  const [count] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(messages)
    .where(and(inArray(messages.caseId, caseIds), eq(messages.kind, 'inbound')));
  return { caseId: start.id, platform: start.platform, cases: caseIds.length, messages: count?.n ?? 0 };
}

/**
 * The case and every other case of its customer: the authors of its inbound messages, on the same
 * platform (an author id means nothing across platforms), and every author linked to them as the
 * same person ("Same person as…", care/customers.ts), with their customer rows.
 */
async function customerCaseIds(db: Database | Tx, start: CaseRow): Promise<number[]> {
  return (await customerScope(db, start)).caseIds;
}

async function customerScope(
  db: Database | Tx,
  start: CaseRow,
): Promise<{ caseIds: number[]; customerIds: number[] }> {
  const authors = await db
    .selectDistinct({ authorId: messages.authorId })
    .from(messages)
    .where(
      and(eq(messages.caseId, start.id), eq(messages.kind, 'inbound'), ne(messages.authorId, REMOVED_AUTHOR)),
    );
  const authorIds = authors.map((a) => a.authorId);
  const theirs = authors.length
    ? await db
        .selectDistinct({ id: messages.caseId })
        .from(messages)
        .innerJoin(cases, eq(cases.id, messages.caseId))
        .where(
          and(
            eq(cases.platform, start.platform),
            eq(messages.kind, 'inbound'),
            inArray(messages.authorId, authorIds),
          ),
        )
    : [];
  const direct = await db
    .select({ id: customers.id })
    .from(customers)
    .where(
      or(
        start.customerId === null ? undefined : eq(customers.id, start.customerId),
        authorIds.length
          ? and(eq(customers.platform, start.platform), inArray(customers.authorId, authorIds))
          : undefined,
      ),
    );
  const customerIds = direct.length
    ? (
        await db
          .select({ id: customers.id })
          .from(customers)
          .where(
            sql`${customers.id} in (${sql.join(
              direct.map((d) => personGroup(d.id)),
              sql` union `,
            )})`,
          )
      ).map((r) => r.id)
    : [];
  const linked = customerIds.length
    ? await db.select({ id: cases.id }).from(cases).where(inArray(cases.customerId, customerIds))
    : [];
  const caseIds = [...new Set([start.id, ...theirs.map((c) => c.id), ...linked.map((c) => c.id)])].sort(
    (a, b) => a - b,
  );
  return { caseIds, customerIds };
}

/**
 * The forget modal was opened for this case by this person: logged, so that its submission can be
 * held to the case it was opened for (a submission naming another case is refused).
 */
export async function recordForgetConfirmation(
  db: Database,
  clock: Clock,
  input: { caseId: number; userId: string; viewId: string },
): Promise<void> {
  await db.transaction((tx) =>
    logEvent(tx, input.caseId, 'forget_confirmation_opened', input.userId, clock.now(), {
      viewId: input.viewId,
    }),
  );
}

/** The case a forget modal was opened for by this person, if it was. */
export async function confirmedCase(
  db: Database,
  input: { userId: string; viewId: string },
): Promise<number | undefined> {
  const [row] = await db
    .select({ caseId: caseEvents.caseId })
    .from(caseEvents)
    .where(
      and(
        eq(caseEvents.type, 'forget_confirmation_opened'),
        eq(caseEvents.actor, input.userId),
        sql`${caseEvents.data}->>'viewId' = ${input.viewId}`,
      ),
    )
    .limit(1);
  return row?.caseId;
}
