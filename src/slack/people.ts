import type { webApi } from '@slack/bolt';
import type { Directory, Person } from '../care/permissions.js';
import type { Logger } from '../logger.js';

type WebClient = webApi.WebClient;

interface Cached<T> {
  value: T;
  until: number;
}

interface SlackUser extends Person {
  name: string;
}

/**
 * Who people are in Slack: names customers see on replies, and what the permission policy needs
 * (guest or full member, which workspace, user-group membership). Looked up through the Web API
 * and cached for a few minutes, so a busy thread does not cost a call per message. A lookup that
 * fails throws: the policy refuses rather than guess (care/permissions.ts).
 */
export class People implements Directory {
  private readonly names = new Map<string, Cached<string>>();
  private readonly users = new Map<string, Cached<Person>>();
  private readonly groups = new Map<string, Cached<ReadonlySet<string>>>();
  private team: string | undefined;

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /**
   * The name a customer sees: the person's display name, else their full name. Cached apart from
   * the permission lookups, and a failure here only costs the name ("Customer care").
   */
  async name(userId: string): Promise<string> {
    const hit = this.names.get(userId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const { name } = await this.fetchUser(userId);
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

  /** What the permission policy needs to know of a person; throws when Slack cannot say. */
  async person(userId: string): Promise<Person> {
    const hit = this.users.get(userId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const value = await this.fetchUser(userId);
      this.users.set(userId, { value, until: Date.now() + this.ttlMs });
      return value;
    } catch (err) {
      this.logger.warn({ err: errorCode(err), userId }, 'could not look up a Slack user');
      throw err;
    }
  }

  async members(usergroupId: string): Promise<ReadonlySet<string>> {
    const hit = this.groups.get(usergroupId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const res = await this.client.usergroups.users.list({ usergroup: usergroupId });
      const members = new Set(res.users ?? []);
      this.groups.set(usergroupId, { value: members, until: Date.now() + this.ttlMs });
      return members;
    } catch (err) {
      if (errorCode(err) === 'no_such_subteam') {
        // A definite answer, not a failure: nobody is in a group that does not exist. Loud, since
        // it is a mistake in the config (a care team nobody is in refuses everyone).
        this.logger.error(
          { usergroupId },
          'a configured user group does not exist in Slack; it counts as empty',
        );
        // Not cached: once the group is created, the next check sees it.
        return new Set();
      }
      this.logger.warn({ err: errorCode(err), usergroupId }, 'could not read a user group');
      throw err;
    }
  }

  async installationTeamId(): Promise<string> {
    if (this.team) return this.team;
    try {
      const res = await this.client.auth.test();
      if (!res.team_id) throw new Error('auth.test gave no team_id');
      this.team = res.team_id;
      return this.team;
    } catch (err) {
      this.logger.warn({ err: errorCode(err) }, 'could not learn the installation team (auth.test)');
      throw err;
    }
  }

  private async fetchUser(userId: string): Promise<SlackUser> {
    const res = await this.client.users.info({ user: userId });
    const u = res.user;
    if (!u) throw new Error('users.info gave no user');
    return {
      id: userId,
      name: u.profile?.display_name || u.real_name || u.profile?.real_name || u.name || 'Customer care',
      teamId: u.team_id,
      guest: Boolean(u.is_restricted || u.is_ultra_restricted),
      deleted: Boolean(u.deleted),
      bot: Boolean(u.is_bot),
    };
  }
}

function errorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e.data?.error ?? e.code ?? e.message ?? 'unknown';
}
