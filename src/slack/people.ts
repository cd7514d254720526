import type { webApi } from '@slack/bolt';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

type WebClient = webApi.WebClient;

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * Who people are in Slack: names customers see on replies, and user-group membership that decides
 * who is on the care team. Looked up through the Web API and cached for a few minutes, so a busy
 * thread does not cost a call per message.
 */
export class People {
  private readonly names = new Map<string, Cached<string>>();
  private readonly groups = new Map<string, Cached<Set<string>>>();

  constructor(
    private readonly client: WebClient,
    private readonly config: Pick<Config, 'careTeamUsergroup' | 'teams'>,
    private readonly logger: Logger,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** The name a customer sees: the person's display name, else their full name. */
  async name(userId: string): Promise<string> {
    const hit = this.names.get(userId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const res = await this.client.users.info({ user: userId });
      const u = res.user;
      const name =
        u?.profile?.display_name || u?.real_name || u?.profile?.real_name || u?.name || 'Customer care';
      this.names.set(userId, { value: name, until: Date.now() + this.ttlMs });
      return name;
    } catch (err) {
      this.logger.warn(
        { err: errorCode(err), userId },
        'could not look up a Slack user; using a generic name',
      );
      return 'Customer care';
    }
  }

  async members(usergroupId: string): Promise<Set<string>> {
    const hit = this.groups.get(usergroupId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const res = await this.client.usergroups.users.list({ usergroup: usergroupId });
      const members = new Set(res.users ?? []);
      this.groups.set(usergroupId, { value: members, until: Date.now() + this.ttlMs });
      return members;
    } catch (err) {
      this.logger.warn({ err: errorCode(err), usergroupId }, 'could not read a user group');
      // A stale answer beats none; no answer at all means "not a member".
      return hit?.value ?? new Set();
    }
  }

  /**
   * The care team: members of `care_team_usergroup`, or, when none is set, anyone who is not in an
   * escalation team (PR, product… answer through the owner, not to the customer).
   */
  async isCareTeam(userId: string): Promise<boolean> {
    if (this.config.careTeamUsergroup) return (await this.members(this.config.careTeamUsergroup)).has(userId);
    for (const team of this.config.teams) {
      if (team.users?.includes(userId)) return false;
      if (team.usergroup && (await this.members(team.usergroup)).has(userId)) return false;
    }
    return true;
  }
}

function errorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e.data?.error ?? e.code ?? e.message ?? 'unknown';
}
