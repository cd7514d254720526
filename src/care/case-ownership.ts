import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type CaseRow, cases } from '../db/schema.js';
import { announce, getCase, logEvent } from './case-store.js';
import type { Clock } from './clock.js';

/** Who owns a case: claiming it, letting it go, taking it over from its owner. */

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
  /**
   * Posted in the thread, so the team sees who let go (Slack formatting is the caller's); a function
   * gets the released case (e.g. to say that a case carebot assigned is not assigned again).
   */
  slackText?: string | ((released: CaseRow) => string),
): Promise<UnclaimResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const [released] = await tx
      .update(cases)
      .set({ ownerId: null, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(and(eq(cases.id, caseId), eq(cases.ownerId, userId)))
      .returning();
    if (released) {
      if (slackText) {
        const text = typeof slackText === 'function' ? slackText(released) : slackText;
        await announce(tx, { caseId, type: 'unclaimed', actor: userId, at: now, slackText: text });
      } else await logEvent(tx, caseId, 'unclaimed', userId, now);
      return { kind: 'unclaimed', case: released };
    }
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    return { kind: 'not_owner', ownerId: current.ownerId };
  });
}

export type TakeOverResult =
  | { kind: 'taken_over'; previousOwner: string | null; case: CaseRow }
  | { kind: 'already_owner' }
  | { kind: 'resolved' }
  | { kind: 'not_found' };

/** Takes a case from its owner (after a confirmation in Slack); the previous owner is told. */
export async function takeOver(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
  mention: (id: string) => string,
): Promise<TakeOverResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const current = await getCase(tx, caseId);
    if (!current) return { kind: 'not_found' };
    if (current.status === 'resolved') return { kind: 'resolved' };
    if (current.ownerId === userId) return { kind: 'already_owner' };
    const [taken] = await tx
      .update(cases)
      .set({ ownerId: userId, cardVersion: sql`${cases.cardVersion} + 1`, updatedAt: now })
      .where(eq(cases.id, caseId))
      .returning();
    if (!taken) return { kind: 'not_found' };
    await announce(tx, {
      caseId,
      type: 'taken_over',
      actor: userId,
      at: now,
      data: { from: current.ownerId },
      slackText: current.ownerId
        ? `:arrows_counterclockwise: ${mention(current.ownerId)} ${mention(userId)} took over this case.`
        : `:raising_hand: ${mention(userId)} took this case.`,
    });
    return { kind: 'taken_over', previousOwner: current.ownerId, case: taken };
  });
}
