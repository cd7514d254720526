import { randomUUID } from 'node:crypto';
import { and, asc, count, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { assignmentRotation, cases } from '../db/schema.js';
import { announce } from './case-store.js';
import { queueChannelMessage } from './channel-messages.js';
import type { Duration } from './clock.js';

/**
 * Automatic assignment in the database: one instance at a time holds the round robin (a lease on
 * its one row), a case is assigned by a conditional UPDATE that only an unowned, open, never
 * auto-assigned case passes, and the rotation moves on in the same transaction.
 */

const ROTATION_KEY = 'round_robin';

export interface RotationLease {
  token: string;
  lastUserId: string | null;
  nobodySince: Date | null;
}

/** Takes the round robin for `leaseMs`; undefined when another instance holds it. */
export async function leaseRotation(
  db: Database,
  now: Date,
  leaseMs: Duration,
): Promise<RotationLease | undefined> {
  await db.insert(assignmentRotation).values({ key: ROTATION_KEY, updatedAt: now }).onConflictDoNothing();
  const token = randomUUID();
  const [row] = await db
    .update(assignmentRotation)
    .set({ leaseUntil: new Date(now.getTime() + leaseMs), leaseToken: token })
    .where(
      and(
        eq(assignmentRotation.key, ROTATION_KEY),
        or(isNull(assignmentRotation.leaseUntil), lte(assignmentRotation.leaseUntil, now)),
      ),
    )
    .returning();
  if (!row) return undefined;
  return { token, lastUserId: row.lastUserId, nobodySince: row.nobodySince };
}

export async function releaseRotation(db: Database, lease: RotationLease): Promise<void> {
  await db
    .update(assignmentRotation)
    .set({ leaseUntil: null, leaseToken: null })
    .where(and(eq(assignmentRotation.key, ROTATION_KEY), eq(assignmentRotation.leaseToken, lease.token)));
}

export interface WaitingCase {
  id: number;
  channelId: string;
  priority: string;
}

/**
 * Open cases nobody owns that carebot never assigned, opened at least `after` ago (P1 at once):
 * P1 first, then the oldest.
 */
export async function casesToAssign(
  db: Database,
  now: Date,
  after: Duration,
  limit: number,
): Promise<WaitingCase[]> {
  const openedBy = new Date(now.getTime() - after);
  return db
    .select({ id: cases.id, channelId: cases.channelId, priority: cases.priority })
    .from(cases)
    .where(
      and(
        eq(cases.status, 'open'),
        isNull(cases.ownerId),
        isNull(cases.autoAssignedAt),
        or(eq(cases.priority, 'P1'), lte(cases.openedAt, openedBy)),
      ),
    )
    .orderBy(asc(cases.priority), asc(cases.openedAt), asc(cases.id))
    .limit(limit);
}

/** How many open cases each of these people owns. */
export async function openCasesOwned(db: Database, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .select({ ownerId: cases.ownerId, open: count() })
    .from(cases)
    .where(and(eq(cases.status, 'open'), inArray(cases.ownerId, [...userIds])))
    .groupBy(cases.ownerId);
  return new Map(rows.map((r) => [r.ownerId as string, Number(r.open)]));
}

export type AssignOutcome = 'assigned' | 'taken' | 'lease_lost';

/**
 * Makes `userId` the owner of the case, says so in its thread and moves the rotation on to them,
 * all or nothing. `taken`: someone claimed it, it was resolved or already auto-assigned meanwhile.
 * `lease_lost`: this instance no longer holds the round robin (nothing was changed).
 */
export async function assignCase(
  db: Database,
  input: { caseId: number; userId: string; lease: RotationLease; now: Date; slackText: string },
): Promise<AssignOutcome> {
  const { caseId, userId, lease, now } = input;
  return db
    .transaction(async (tx) => {
      const [moved] = await tx
        .update(assignmentRotation)
        .set({ lastUserId: userId, nobodySince: null, updatedAt: now })
        .where(and(eq(assignmentRotation.key, ROTATION_KEY), eq(assignmentRotation.leaseToken, lease.token)))
        .returning({ key: assignmentRotation.key });
      if (!moved) return 'lease_lost' as const;
      const [assigned] = await tx
        .update(cases)
        .set({
          ownerId: userId,
          autoAssignedAt: now,
          cardVersion: sql`${cases.cardVersion} + 1`,
          updatedAt: now,
        })
        .where(
          and(
            eq(cases.id, caseId),
            eq(cases.status, 'open'),
            isNull(cases.ownerId),
            isNull(cases.autoAssignedAt),
          ),
        )
        .returning({ id: cases.id });
      // Roll the rotation back too: the person's turn has not been used.
      if (!assigned) throw new NotAssignable();
      await announce(tx, {
        caseId,
        type: 'auto_assigned',
        actor: 'carebot',
        at: now,
        data: { ownerId: userId, mode: 'round_robin' },
        slackText: input.slackText,
      });
      return 'assigned' as const;
    })
    .catch((err: unknown) => {
      if (err instanceof NotAssignable) return 'taken' as const;
      throw err;
    });
}

class NotAssignable extends Error {}

/**
 * Records that nobody was available for waiting cases and tells each of their channels, once per
 * stretch: the stretch starts here and ends when a case is assigned or none waits (`endNobodyStretch`).
 * Returns the channels told now.
 */
export async function nobodyAvailable(
  db: Database,
  input: { lease: RotationLease; now: Date; waiting: readonly WaitingCase[]; text: (n: number) => string },
): Promise<string[]> {
  const { lease, now } = input;
  let since = lease.nobodySince;
  if (!since) {
    const [row] = await db
      .update(assignmentRotation)
      .set({ nobodySince: now, updatedAt: now })
      .where(and(eq(assignmentRotation.key, ROTATION_KEY), eq(assignmentRotation.leaseToken, lease.token)))
      .returning({ nobodySince: assignmentRotation.nobodySince });
    if (!row?.nobodySince) return [];
    since = row.nobodySince;
    lease.nobodySince = since;
  }
  const byChannel = new Map<string, number>();
  for (const c of input.waiting) byChannel.set(c.channelId, (byChannel.get(c.channelId) ?? 0) + 1);
  const told: string[] = [];
  for (const [channelId, n] of byChannel) {
    // The key makes it once per channel and stretch, whichever instance or round gets here.
    const queued = await queueChannelMessage(db, {
      key: `assignment:nobody:${channelId}:${since.getTime()}`,
      channelId,
      text: input.text(n),
      now,
    });
    if (queued) told.push(channelId);
  }
  return told;
}

/** No case waits any more: a later "nobody available" is news again. */
export async function endNobodyStretch(db: Database, lease: RotationLease, now: Date): Promise<void> {
  if (!lease.nobodySince) return;
  await db
    .update(assignmentRotation)
    .set({ nobodySince: null, updatedAt: now })
    .where(and(eq(assignmentRotation.key, ROTATION_KEY), eq(assignmentRotation.leaseToken, lease.token)));
  lease.nobodySince = null;
}
