import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type CaseRow, cases } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { announce, getCase } from './case-store.js';
import type { Clock } from './clock.js';
import { resolutionDueAfterWaiting, type SlaSettings } from './sla.js';

/**
 * "Waiting on the customer": the agent's answer reached the customer and the team waits for theirs.
 * While a case waits its SLA clocks are paused (care/sla.ts plans no stage for it); a customer
 * message, or a person pressing "No longer waiting", ends the wait and the clocks run again with
 * the resolution deadline moved by the business time spent waiting. The auto-resolve job
 * (jobs/auto-resolve.ts) nudges the owner and resolves a case whose customer stays silent.
 */

type WaitFields = Pick<CaseRow, 'status' | 'waitingSince' | 'lastReplyAt' | 'lastCustomerMessageAt'>;

/**
 * Whether a case may be marked waiting: open, not waiting yet, and its last message is the agent's
 * answer that reached the customer. `markWaiting` repeats this as its SQL condition.
 */
export function canWaitOnCustomer(c: WaitFields): boolean {
  return (
    c.status === 'open' &&
    !c.waitingSince &&
    c.lastReplyAt !== null &&
    c.lastReplyAt.getTime() >= c.lastCustomerMessageAt.getTime()
  );
}

export type MarkWaitingResult =
  | { kind: 'waiting'; case: CaseRow }
  | { kind: 'already_waiting'; since: Date }
  | { kind: 'resolved' }
  /** The customer wrote after the last answer (or nothing reached them yet). */
  | { kind: 'customer_wrote_last' }
  | { kind: 'not_found' };

/**
 * Marks a case as waiting on its customer, only while that still applies (a customer message that
 * arrived since the card was drawn makes the click a no-op). The thread hears `slackText`.
 */
export async function markWaiting(
  db: Database,
  clock: Clock,
  input: { caseId: number; userId: string; slackText: (c: CaseRow) => string },
): Promise<MarkWaitingResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [marked] = await tx
      .update(cases)
      .set({
        waitingSince: now,
        waitingNudgedAt: null,
        // Paused: the SLA sweep has nothing to look at until the wait ends.
        slaNextCheckAt: null,
        cardVersion: sql`${cases.cardVersion} + 1`,
        updatedAt: now,
      })
      .where(
        and(
          eq(cases.id, input.caseId),
          eq(cases.status, 'open'),
          isNull(cases.waitingSince),
          isNotNull(cases.lastReplyAt),
          sql`${cases.lastReplyAt} >= ${cases.lastCustomerMessageAt}`,
        ),
      )
      .returning();
    if (marked) {
      await announce(tx, {
        caseId: input.caseId,
        type: 'waiting_started',
        actor: input.userId,
        at: now,
        slackText: input.slackText(marked),
      });
      return { kind: 'waiting', case: marked };
    }
    const current = await getCase(tx, input.caseId);
    if (!current) return { kind: 'not_found' };
    if (current.status !== 'open') return { kind: 'resolved' };
    if (current.waitingSince) return { kind: 'already_waiting', since: current.waitingSince };
    return { kind: 'customer_wrote_last' };
  });
}

export type EndWaitingResult =
  | { kind: 'ended'; case: CaseRow }
  | { kind: 'not_waiting' }
  | { kind: 'not_found' };

/** A person ends the wait ("No longer waiting"): the clocks run again. Undoes `markWaiting`. */
export async function endWaiting(
  db: Database,
  clock: Clock,
  input: { caseId: number; userId: string; sla: SlaSettings; slackText: (c: CaseRow) => string },
): Promise<EndWaitingResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const current = await getCase(tx, input.caseId);
    if (!current) return { kind: 'not_found' };
    const ended = await resume(tx, current, now, input.sla);
    if (!ended) return { kind: 'not_waiting' };
    await announce(tx, {
      caseId: ended.id,
      type: 'waiting_ended',
      actor: input.userId,
      at: now,
      data: {
        since: current.waitingSince?.toISOString(),
        resolutionDueAt: ended.resolutionDueAt?.toISOString(),
      },
      slackText: input.slackText(ended),
    });
    return { kind: 'ended', case: ended };
  });
}

export const CUSTOMER_ANSWERED_TEXT =
  ':speech_balloon: The customer answered, so this case no longer waits on them: its SLA clocks run again.';

/**
 * A customer's message joined a case that waited on them (care/case-inbound.ts, in the message's
 * transaction): the wait ends, the clocks run again, and the thread says so. Returns the case as
 * changed, or the case unchanged when it was not waiting.
 */
export async function endWaitingOnCustomerMessage(
  tx: Tx,
  current: CaseRow,
  now: Date,
  sla: SlaSettings | undefined,
): Promise<CaseRow> {
  if (!current.waitingSince) return current;
  const ended = await resume(tx, current, now, sla);
  if (!ended) return current;
  await announce(tx, {
    caseId: ended.id,
    type: 'waiting_ended',
    actor: 'customer',
    at: now,
    data: {
      since: current.waitingSince.toISOString(),
      resolutionDueAt: ended.resolutionDueAt?.toISOString(),
    },
    slackText: CUSTOMER_ANSWERED_TEXT,
  });
  return ended;
}

/** Ends the wait that began at `current.waitingSince`, if it has not ended since. */
async function resume(
  tx: Tx,
  current: CaseRow,
  now: Date,
  sla: SlaSettings | undefined,
): Promise<CaseRow | undefined> {
  if (!current.waitingSince) return undefined;
  const [ended] = await tx
    .update(cases)
    .set({
      waitingSince: null,
      waitingNudgedAt: null,
      ...(sla ? { resolutionDueAt: resolutionDueAfterWaiting(current, now, sla) } : {}),
      slaNextCheckAt: now,
      cardVersion: sql`${cases.cardVersion} + 1`,
      updatedAt: now,
    })
    .where(and(eq(cases.id, current.id), eq(cases.waitingSince, current.waitingSince)))
    .returning();
  return ended;
}
