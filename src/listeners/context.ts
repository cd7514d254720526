import type { Clock } from '../care/clock.js';
import type { SlaSettings } from '../care/sla.js';
import type { ToneRules } from '../care/tone.js';
import type { Config, Team } from '../config.js';
import type { Database } from '../db/client.js';
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
  tone: ToneRules;
  sla: SlaSettings;
}

/** The case id a button carries as its value, or undefined if it is not one. */
export function caseIdFrom(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The configured team of a key, or a stand-in named after the key (a team removed from the config). */
export function teamOf(ctx: Pick<ListenerContext, 'config'>, key: string): Team {
  return ctx.config.teams.find((t) => t.key === key) ?? { key, name: key };
}

/** Whether a person belongs to a team: listed by id, or in its user group. */
export async function isTeamMember(
  ctx: Pick<ListenerContext, 'people'>,
  team: Team,
  userId: string,
): Promise<boolean> {
  if (team.users?.includes(userId)) return true;
  if (team.usergroup) return (await ctx.people.members(team.usergroup)).has(userId);
  return false;
}
