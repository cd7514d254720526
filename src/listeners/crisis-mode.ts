import { crisisTargets, liftCrisisMode, startCrisisMode } from '../care/crisis-mode.js';
import { crisisBanner } from '../slack/crisis.js';
import type { ListenerContext } from './context.js';

const NOT_ALLOWED =
  'Only the care team, the managers and the escalation teams can turn crisis mode on or off: it changes every new deadline and the care channel.';

/**
 * Who may change crisis mode: the care team, the managers and the members of escalation teams
 * (PR, product). Without `care_team_usergroup` everyone counts as care team (see people.ts).
 */
async function mayChangeCrisisMode(ctx: ListenerContext, userId: string): Promise<boolean> {
  if (await ctx.people.isCareTeam(userId)) return true;
  const managers = ctx.config.managersUsergroup;
  if (managers && (await ctx.people.members(managers)).has(userId)) return true;
  for (const team of ctx.config.teams) {
    if (team.users?.includes(userId)) return true;
    if (team.usergroup && (await ctx.people.members(team.usergroup)).has(userId)) return true;
  }
  return false;
}

/** Turns crisis mode on by hand (a button on an alert, `/care crisis on`); says what happened. */
export async function turnCrisisModeOn(
  ctx: ListenerContext,
  input: { userId: string; reason: string; alertId?: number | undefined },
): Promise<string> {
  if (!(await mayChangeCrisisMode(ctx, input.userId))) return NOT_ALLOWED;
  const targets = crisisTargets(ctx.config.crisis);
  const result = await startCrisisMode(ctx.db, ctx.clock, {
    userId: input.userId,
    reason: input.reason,
    alertId: input.alertId,
    sla: ctx.sla,
    targets,
    careChannelId: ctx.config.careChannelId,
    banner: (period) => crisisBanner(period, targets),
  });
  ctx.kickSync();
  if (result.kind === 'already') return 'Crisis mode is already on.';
  ctx.logger.warn({ userId: input.userId, periodId: result.period.id }, 'crisis mode on');
  return 'Crisis mode is on: new cases get the crisis SLA targets, and the care channel shows a banner until it is lifted.';
}

export async function turnCrisisModeOff(ctx: ListenerContext, userId: string): Promise<string> {
  if (!(await mayChangeCrisisMode(ctx, userId))) return NOT_ALLOWED;
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
