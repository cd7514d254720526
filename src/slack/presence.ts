import type { webApi } from '@slack/bolt';
import type { SlackStatus, Whereabouts } from '../care/assignment.js';
import type { Clock, Duration } from '../care/clock.js';
import type { Directory } from '../care/permissions.js';
import type { Logger } from '../logger.js';
import { classifySlackError } from './errors.js';

type WebClient = webApi.WebClient;

interface Cached<T> {
  value: T;
  until: number;
}

export interface PresenceOptions {
  /** A client that does not retry and rejects rate-limited calls: a round must not wait on Slack. */
  client: WebClient;
  /** User-group members and the installation's team, shared with the permission policy's cache. */
  directory: Pick<Directory, 'members' | 'installationTeamId'>;
  clock: Clock;
  logger: Logger;
  /** How long a presence or status answer is reused. */
  ttl: Duration;
  /** How long the workspace member list is reused. */
  membersTtl: Duration;
}

/** Slack's users.list page size limit is 1000; 200 is what Slack recommends. */
const PAGE = 200;
/** A workspace bigger than this is no round robin; the care team should be a user group. */
const MAX_PAGES = 50;

/**
 * Whether people are at their desks, as Slack knows it: `users.getPresence` (active or away) and
 * the status on `users.profile.get` (its emoji and when it expires), each cached briefly so a round
 * of assignments costs at most one call of each per person. A rate limit (429) stops every lookup
 * until Slack's Retry-After has passed; lookups then throw, which the rules read as "not available
 * this round" (fail closed).
 */
export class SlackWhereabouts implements Whereabouts {
  private readonly presences = new Map<string, Cached<'active' | 'away'>>();
  private readonly statuses = new Map<string, Cached<SlackStatus>>();
  private workspace: Cached<readonly string[]> | undefined;
  private quietUntil = 0;
  /** Problems a person must fix (a missing scope, a bad token), each logged once, not every round. */
  private readonly said = new Set<string>();

  constructor(private readonly opts: PresenceOptions) {}

  members(usergroupId: string): Promise<ReadonlySet<string>> {
    return this.opts.directory.members(usergroupId);
  }

  async workspaceMembers(): Promise<readonly string[]> {
    const now = this.opts.clock.now().getTime();
    if (this.workspace && this.workspace.until > now) return this.workspace.value;
    const home = await this.opts.directory.installationTeamId();
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const res = await this.call('users.list', () =>
        this.opts.client.users.list({ limit: PAGE, ...(cursor ? { cursor } : {}) }),
      );
      for (const member of res.members ?? []) {
        // What the list already shows is left out here; the permission policy still checks everyone.
        const outside = member.is_restricted || member.is_ultra_restricted || member.team_id !== home;
        if (member.id && !member.deleted && !member.is_bot && member.id !== 'USLACKBOT' && !outside)
          ids.push(member.id);
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    this.workspace = { value: ids, until: now + this.opts.membersTtl };
    return ids;
  }

  async presence(userId: string): Promise<'active' | 'away'> {
    const now = this.opts.clock.now().getTime();
    const hit = this.presences.get(userId);
    if (hit && hit.until > now) return hit.value;
    const res = await this.call('users.getPresence', () =>
      this.opts.client.users.getPresence({ user: userId }),
    );
    if (res.presence !== 'active' && res.presence !== 'away') {
      throw new Error(`users.getPresence gave presence ${String(res.presence)}`);
    }
    this.presences.set(userId, { value: res.presence, until: now + this.opts.ttl });
    return res.presence;
  }

  async status(userId: string): Promise<SlackStatus> {
    const now = this.opts.clock.now().getTime();
    const hit = this.statuses.get(userId);
    if (hit && hit.until > now) return hit.value;
    const res = await this.call('users.profile.get', () =>
      this.opts.client.users.profile.get({ user: userId }),
    );
    if (!res.profile) throw new Error('users.profile.get gave no profile');
    const expiration = res.profile.status_expiration ?? 0;
    const value: SlackStatus = {
      emoji: res.profile.status_emoji ?? '',
      // 0 means the status stays until its owner clears it.
      expiresAt: expiration > 0 ? new Date(expiration * 1000) : null,
    };
    this.statuses.set(userId, { value, until: now + this.opts.ttl });
    return value;
  }

  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    const now = this.opts.clock.now().getTime();
    if (now < this.quietUntil) throw new Error(`Slack rate limit: not calling ${method} yet`);
    try {
      return await fn();
    } catch (err) {
      const failure = classifySlackError(err);
      if (failure.kind === 'rate_limited') this.quietUntil = now + failure.retryAfterMs;
      if (failure.kind === 'needs_person') {
        const key = `${method}:${failure.reason}`;
        if (!this.said.has(key))
          this.opts.logger.error(
            { method, reason: failure.reason, hint: failure.hint },
            'cannot look up who is available for auto-assignment; nobody is assigned until this is fixed',
          );
        this.said.add(key);
      } else {
        this.opts.logger.warn({ method, reason: failure.reason }, 'could not look up who is available');
      }
      throw err;
    }
  }
}
