import { isNull } from 'drizzle-orm';
import type { CrisisConfig } from '../config/crisis.js';
import type { Database } from '../db/client.js';
import { type CrisisPeriodRow, crisisPeriods } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { queueChannelMessage } from './channel-messages.js';
import type { Clock } from './clock.js';
import type { SlaSettings, Targets } from './sla.js';

/**
 * Crisis mode: while it is on, SLA targets are the tighter ones of `crisis.sla` and the care
 * channel carries a banner. It starts with a spike alert (`crisis.mode_on_alert`) or by hand, and
 * lasts until someone lifts it. At most one period is active (a partial unique index).
 */
export function crisisTargets(config: Pick<CrisisConfig, 'sla'>): Partial<Targets> {
  const t: Partial<Targets> = {};
  if (config.sla.firstResponse !== null) t.firstResponseMs = config.sla.firstResponse;
  if (config.sla.nextResponse !== null) t.nextResponseMs = config.sla.nextResponse;
  if (config.sla.resolution !== null) t.resolutionMs = config.sla.resolution;
  return t;
}

export async function activeCrisis(db: Database | Tx): Promise<CrisisPeriodRow | undefined> {
  const [row] = await db.select().from(crisisPeriods).where(isNull(crisisPeriods.liftedAt));
  return row;
}

export interface BannerText {
  text: string;
  blocks: unknown[];
}

export interface CrisisModeInput {
  userId: string;
  /** The usual SLA settings (those `crisis` is set on while the mode is on). */
  sla: SlaSettings;
  targets: Partial<Targets>;
  careChannelId: string;
  banner: (period: CrisisPeriodRow) => BannerText;
}

export type StartResult =
  | { kind: 'started'; period: CrisisPeriodRow }
  | { kind: 'already'; period: CrisisPeriodRow };

/**
 * Turns crisis mode on: the banner goes up, and clocks that start from now on (new cases, a
 * customer's follow-up) get the crisis targets. Clocks already running keep their deadlines, so
 * turning it on in the middle of a storm does not breach the whole queue at once.
 */
export async function startCrisisMode(
  db: Database,
  clock: Clock,
  input: CrisisModeInput & { reason: string; alertId?: number | undefined },
): Promise<StartResult> {
  const now = clock.now();
  const result = await db.transaction(async (tx) => {
    const [period] = await tx
      .insert(crisisPeriods)
      .values({
        startedAt: now,
        startedBy: input.userId,
        reason: input.reason,
        alertId: input.alertId ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (!period) return undefined;
    const banner = input.banner(period);
    await queueChannelMessage(tx, {
      key: bannerKey(period.id),
      channelId: input.careChannelId,
      ...banner,
      now,
    });
    return { kind: 'started' as const, period };
  });
  if (result) {
    input.sla.crisis = input.targets;
    return result;
  }
  const current = await activeCrisis(db);
  if (!current) throw new Error('crisis mode neither started nor active');
  input.sla.crisis = input.targets;
  return { kind: 'already', period: current };
}

export type LiftResult = { kind: 'lifted'; period: CrisisPeriodRow } | { kind: 'not_active' };

/** Lifts crisis mode: the banner says so; clocks that start from now on get the usual targets. */
export async function liftCrisisMode(
  db: Database,
  clock: Clock,
  input: Omit<CrisisModeInput, 'targets'>,
): Promise<LiftResult> {
  const now = clock.now();
  const result = await db.transaction(async (tx) => {
    const [period] = await tx
      .update(crisisPeriods)
      .set({ liftedAt: now, liftedBy: input.userId })
      .where(isNull(crisisPeriods.liftedAt))
      .returning();
    if (!period) return undefined;
    const banner = input.banner(period);
    await queueChannelMessage(tx, {
      key: `${bannerKey(period.id)}:lifted`,
      channelId: input.careChannelId,
      replacesKey: bannerKey(period.id),
      ...banner,
      now,
    });
    return { kind: 'lifted' as const, period };
  });
  input.sla.crisis = undefined;
  return result ?? { kind: 'not_active' };
}

export const bannerKey = (periodId: number) => `crisis-mode:${periodId}:banner`;
