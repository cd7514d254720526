import type { Permissions } from './permissions.js';

/**
 * Who may be handed a case automatically (assignment.mode `round_robin`): the rules, free of Slack.
 * A person is available when the permission policy lets them claim (care team, not a guest, not
 * another organisation), they are on shift (when a shift group is set), active in Slack, not in a
 * status whose emoji says away, and own fewer open cases than the cap. Any lookup that fails makes
 * that person unavailable for this round (fail closed) and the round "unsure", so carebot does not
 * tell the channel that nobody is there when it only could not ask.
 */

export interface AssignmentSettings {
  maxOpenPerAgent: number;
  shiftUsergroup: string | null;
  awayStatusEmoji: readonly string[];
  careTeamUsergroup: string | null;
}

export interface SlackStatus {
  emoji: string;
  /** When the status ends by itself; null when it does not. */
  expiresAt: Date | null;
}

/** The lookups the rules need. Every method throws when it cannot answer. */
export interface Whereabouts {
  members(usergroupId: string): Promise<ReadonlySet<string>>;
  /** Every member of the workspace (guests and bots included; the policy filters them). */
  workspaceMembers(): Promise<readonly string[]>;
  presence(userId: string): Promise<'active' | 'away'>;
  status(userId: string): Promise<SlackStatus>;
}

export type Unavailable = 'not_care_team' | 'lookup_failed' | 'at_capacity' | 'away' | 'away_status';

/**
 * Everyone who could be assigned, in rotation order (sorted by user id, so every instance and every
 * restart walks the same ring): the shift group's members when one is set, else the care team's
 * group, else the whole workspace. The policy still checks each of them.
 */
export async function assignmentPool(settings: AssignmentSettings, lookups: Whereabouts): Promise<string[]> {
  const group = settings.shiftUsergroup ?? settings.careTeamUsergroup;
  const ids = group ? [...(await lookups.members(group))] : [...(await lookups.workspaceMembers())];
  return [...new Set(ids)].sort();
}

/** The pool from the person after `last` round to `last` itself (whose turn comes again last). */
export function rotationFrom(pool: readonly string[], last: string | null): string[] {
  if (!last) return [...pool];
  const next = pool.findIndex((id) => id > last);
  if (next < 0) return [...pool];
  return [...pool.slice(next), ...pool.slice(0, next)];
}

/** An away status that has not expired (Slack clears expired ones itself, a little late). */
export function isAwayStatus(status: SlackStatus, awayEmoji: readonly string[], now: Date): boolean {
  if (!status.emoji || !awayEmoji.includes(status.emoji)) return false;
  return status.expiresAt === null || status.expiresAt.getTime() > now.getTime();
}

/**
 * Decides, for one round, who is available. Each person is looked up once a round; a person's open
 * cases count up as the round assigns them more.
 */
export class Availability {
  private readonly known = new Map<string, Promise<Unavailable | 'available'>>();
  /** A lookup failed this round: "nobody available" may not be true. */
  unsure = false;

  constructor(
    private readonly settings: AssignmentSettings,
    private readonly permissions: Permissions,
    private readonly lookups: Whereabouts,
    private readonly openCases: Map<string, number>,
    private readonly now: Date,
  ) {}

  async check(userId: string): Promise<Unavailable | 'available'> {
    if ((this.openCases.get(userId) ?? 0) >= this.settings.maxOpenPerAgent) return 'at_capacity';
    let known = this.known.get(userId);
    if (!known) {
      known = this.lookUp(userId);
      this.known.set(userId, known);
    }
    return known;
  }

  /** The person was given one more case in this round. */
  assigned(userId: string): void {
    this.openCases.set(userId, (this.openCases.get(userId) ?? 0) + 1);
  }

  private async lookUp(userId: string): Promise<Unavailable | 'available'> {
    const decision = await this.permissions.check({ userId }, { action: 'claim' });
    if (!decision.allowed) {
      if (decision.reason === 'lookup_failed') return this.failed();
      return 'not_care_team';
    }
    try {
      // Presence first: it is the cheaper answer to "no" for most of a team outside their hours.
      if ((await this.lookups.presence(userId)) !== 'active') return 'away';
      const status = await this.lookups.status(userId);
      if (isAwayStatus(status, this.settings.awayStatusEmoji, this.now)) return 'away_status';
      return 'available';
    } catch {
      return this.failed();
    }
  }

  private failed(): Unavailable {
    this.unsure = true;
    return 'lookup_failed';
  }
}
