import { eq } from 'drizzle-orm';
import { type CaseRow, cases } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { getCase, logEvent } from './case-store.js';
import { continuedResolutionDue, nextResponseDue, openingDeadlines, type SlaSettings } from './sla.js';

/** A case's SLA clocks starting and stopping as messages come and go (the deadlines are sla.ts's). */

/**
 * Starts or continues SLA clocks after a customer's message: a new case gets its first-response and
 * resolution deadlines; a message after a reply starts the next-response clock; a reopened case
 * continues its resolution clock with the time it had left.
 */
export async function applyInboundSla(
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
