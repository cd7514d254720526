import { crisisTargets, liftCrisisMode, startCrisisMode } from '../care/crisis-mode.js';
import type { Actor } from '../care/permissions.js';
import { crisisBanner } from '../slack/crisis.js';
import type { ListenerContext } from './context.js';

/** Whether `actor` may change crisis mode (care/permissions.ts): undefined if so, else why not. */
async function refusal(ctx: ListenerContext, actor: Actor): Promise<string | undefined> {
  const decision = await ctx.permissions.check(actor, { action: 'crisis_mode' });
  return decision.allowed ? undefined : decision.message;
}

/** Turns crisis mode on by hand (a button on an alert, `/care crisis on`); says what happened. */
export async function turnCrisisModeOn(
  ctx: ListenerContext,
  input: { actor: Actor; reason: string; alertId?: number | undefined },
): Promise<string> {
  const refused = await refusal(ctx, input.actor);
  if (refused) return refused;
  const userId = input.actor.userId;
  const targets = crisisTargets(ctx.config.crisis);
  const result = await startCrisisMode(ctx.db, ctx.clock, {
    userId,
    reason: input.reason,
    alertId: input.alertId,
    sla: ctx.sla,
    targets,
    careChannelId: ctx.config.careChannelId,
    banner: (period) => crisisBanner(period, targets),
  });
  ctx.kickSync();
  if (result.kind === 'already') return 'Crisis mode is already on.';
  ctx.logger.warn({ userId, periodId: result.period.id }, 'crisis mode on');
  return 'Crisis mode is on: new cases get the crisis SLA targets, and the care channel shows a banner until it is lifted.';
}

export async function turnCrisisModeOff(ctx: ListenerContext, actor: Actor): Promise<string> {
  const refused = await refusal(ctx, actor);
  if (refused) return refused;
  const userId = actor.userId;
  const targets = crisisTargets(ctx.config.crisis);
  const result = await liftCrisisMode(ctx.db, ctx.clock, {
    userId,
    sla: ctx.sla,
    careChannelId: ctx.config.careChannelId,
    banner: (period) => crisisBanner(period, targets),
  });
  ctx.kickSync();
  if (result.kind === 'not_active') return 'Crisis mode is not on.';
  ctx.logger.info({ userId, periodId: result.period.id }, 'crisis mode lifted');
  return 'Crisis mode lifted: new cases get the usual SLA targets again.';
}
