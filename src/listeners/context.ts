import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  BlockStaticSelectAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { Clock } from '../care/clock.js';
import type { Actor, Permission, Permissions } from '../care/permissions.js';
import type { Database } from '../care/records.js';
import type { SlaSettings } from '../care/sla.js';
import type { ToneRules } from '../care/tone.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { People } from '../slack/people.js';

/** What every listener needs: the database, the clock, config, and a way to nudge the Slack sync. */
export interface ListenerContext {
  db: Database;
  clock: Clock;
  config: Config;
  logger: Logger;
  kickSync: () => void;
  /** Asks the reply delivery job to look again at `at` (the end of an undo window). */
  deliverAt: (at: Date) => void;
  people: People;
  /** Who may do what: every listener asks it (care/permissions.ts). */
  permissions: Permissions;
  tone: ToneRules;
  sla: SlaSettings;
}

/**
 * What carebot adds to Bolt's context: its listener context, set for every request by one global
 * middleware (listeners/index.ts), so a handler is a plain function of Bolt's arguments.
 */
export type CarebotContext = { carebot: ListenerContext };

/** The arguments Bolt gives carebot's listeners, by kind. */
export type ButtonArgs = AllMiddlewareArgs<CarebotContext> & SlackActionMiddlewareArgs<BlockButtonAction>;
export type StaticSelectArgs = AllMiddlewareArgs<CarebotContext> &
  SlackActionMiddlewareArgs<BlockStaticSelectAction>;
export type ViewSubmitArgs = AllMiddlewareArgs<CarebotContext> & SlackViewMiddlewareArgs<ViewSubmitAction>;
export type CommandArgs = AllMiddlewareArgs<CarebotContext> & SlackCommandMiddlewareArgs;
export type EventArgs<Event extends string> = AllMiddlewareArgs<CarebotContext> &
  SlackEventMiddlewareArgs<Event>;

/** The case id a button carries as its value, or undefined if it is not one. */
export function caseIdFrom(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Who clicked or submitted: the user, and their team as the payload gives it. */
export function actorOf(body: {
  user: { id: string; team_id?: string | undefined };
  team?: { id?: string | undefined } | null | undefined;
}): Actor {
  return { userId: body.user.id, teamId: body.user.team_id ?? body.team?.id ?? undefined };
}

/**
 * Asks the policy whether `actor` may do it; when not, tells them why (or that their permissions
 * could not be checked) through `tell`, and answers false.
 */
export async function permitted(
  ctx: Pick<ListenerContext, 'permissions' | 'logger'>,
  actor: Actor,
  permission: Permission,
  tell: (text: string) => Promise<unknown>,
): Promise<boolean> {
  const decision = await ctx.permissions.check(actor, permission);
  if (decision.allowed) return true;
  ctx.logger.info(
    { userId: actor.userId, action: permission.action, reason: decision.reason },
    'action refused',
  );
  await tell(decision.message);
  return false;
}
