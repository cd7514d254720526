import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type CaseRow, cases } from '../db/schema.js';
import { stopResponseClocks } from './case-clocks.js';
import { announce, getCase, logEvent } from './case-store.js';
import type { Clock } from './clock.js';
import { type CsatSettings, queueRatingQuestion, withdrawRatingQuestion } from './csat.js';
import type { Priority } from './priority.js';
import {
  continuedResolutionDue,
  deadlinesForPriority,
  resolutionRemaining,
  type SlaSettings,
} from './sla.js';

/**
 * What agents do to a case besides owning it: set its priority, resolve and reopen it, say they
 * answered on the site, move the conversation to private messages.
 */

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

export type ResolveResult =
  /** `askAt`: when the rating question is due to leave, if one was queued. */
  | { kind: 'resolved'; case: CaseRow; askAt?: Date | undefined }
  | { kind: 'already_resolved' }
  | { kind: 'not_found' };

/**
 * Marks a case resolved; its thread stays, and a customer's next message reopens it for a while.
 * `onlyIfWaitingSince`: resolve only a case still waiting on its customer since then (the
 * auto-resolve job; a customer message that ended the wait meanwhile wins). `slackText`: also say
 * so in the thread.
 */
export async function resolveCase(
  db: Database,
  clock: Clock,
  caseId: number,
  userId: string,
  sla?: SlaSettings,
  opts: {
    onlyIfWaitingSince?: Date;
    slackText?: string;
    data?: Record<string, unknown>;
    /** Ask the customer how we did (private conversations only; see care/csat.ts). */
    csat?: CsatSettings;
  } = {},
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
      .where(
        and(
          eq(cases.id, caseId),
          eq(cases.status, 'open'),
          opts.onlyIfWaitingSince ? eq(cases.waitingSince, opts.onlyIfWaitingSince) : undefined,
        ),
      )
      .returning();
    if (resolved) {
      if (opts.slackText)
        await announce(tx, {
          caseId,
          type: 'resolved',
          actor: userId,
          at: now,
          data: opts.data,
          slackText: opts.slackText,
        });
      else await logEvent(tx, caseId, 'resolved', userId, now, opts.data);
      // Resolving stops every clock. A first response never given stays missing (it does not start
      // again on a reopen); the resolution clock keeps what it had left, and its deadline, so a
      // reopen continues it without repeating a breach.
      for (const [clockName, due] of [
        ['first_response', resolved.firstResponseAt ? null : resolved.firstResponseDueAt],
        ['next_response', resolved.nextResponseDueAt],
        ['resolution', resolved.resolutionDueAt],
      ] as const) {
        if (due)
          await logEvent(tx, caseId, 'sla_stopped', 'carebot', now, {
            clock: clockName,
            met: (resolved.waitingSince ?? now) <= due,
          });
      }
      await tx
        .update(cases)
        .set({
          firstResponseDueAt: resolved.firstResponseAt ? resolved.firstResponseDueAt : null,
          nextResponseStartedAt: null,
          nextResponseDueAt: null,
          // A case waiting on its customer had its resolution clock paused since the wait began.
          resolutionRemainingMs: sla
            ? resolutionRemaining(resolved.resolutionDueAt, resolved.waitingSince ?? now, sla)
            : null,
          slaNextCheckAt: null,
          waitingSince: null,
          waitingNudgedAt: null,
        })
        .where(eq(cases.id, caseId));
      const askAt = opts.csat ? await queueRatingQuestion(tx, resolved, opts.csat, now) : undefined;
      return { kind: 'resolved', case: resolved, askAt };
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
    await withdrawRatingQuestion(tx, caseId, userId, now);
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
