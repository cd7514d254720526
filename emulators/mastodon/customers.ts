import { randomBytes } from 'node:crypto';
import type { Logger } from '../../src/logger.js';
import { mastodonLength } from '../../src/sources/mastodon/limits.js';
import {
  type CustomerItem,
  type CustomerSide,
  CustomersOnApi,
  handleOf,
  type NewPost,
} from '../customer-side.js';
import type { ApiCall } from '../http.js';
import {
  type FakeMastodon,
  type FakeMastodonStatus,
  type FakeMastodonUser,
  startFakeMastodon,
} from './api.js';

/**
 * The sandbox's Mastodon: customers on the Mastodon emulator (api.ts) mentioning the brand, in
 * public or privately (a `direct` status). Mastodon has no webhook for mentions: carebot's real
 * Mastodon source polls the emulator's notifications (MASTODON_URL), and its answers arrive as
 * `POST /api/v1/statuses`, shown under the status they answer.
 */

export const MASTODON_BRAND = 'acme';
const MAX_CHARACTERS = 500;

export interface MastodonBrandAccount {
  accessToken: string;
}

export class SandboxMastodon extends CustomersOnApi<FakeMastodon> implements CustomerSide {
  readonly platform = 'mastodon' as const;

  private constructor(
    readonly account: MastodonBrandAccount,
    logger: Logger,
  ) {
    super(() => '', logger);
  }

  static async start(logger: Logger): Promise<SandboxMastodon> {
    const account = { accessToken: `mst-sandbox-${randomBytes(16).toString('hex')}` };
    const side = new SandboxMastodon(account, logger.child({ sandbox: 'mastodon' }));
    side.api = await startFakeMastodon({
      accounts: [{ token: account.accessToken, username: MASTODON_BRAND, displayName: 'Acme Care' }],
      maxCharacters: MAX_CHARACTERS,
      onSent: () => side.emit('change'),
    });
    side.api.brand().followers = 9_800;
    return side;
  }

  /** The API requests carebot made, newest last, for tests and troubleshooting. */
  get calls(): ApiCall[] {
    return this.api.calls.map(({ method, path, status }) => ({ method, path, status }));
  }

  get posts(): FakeMastodonStatus[] {
    return this.api.statuses;
  }

  /**
   * A customer mentions the brand (adding `@acme` when the text lacks it); a follow-up answers the
   * conversation's latest status, in the conversation's visibility. carebot reads it at its next poll.
   */
  async post(input: NewPost): Promise<CustomerItem> {
    const author = this.customer(input);
    const previous = input.conversationId
      ? this.posts.filter((s) => this.conversationOf(s) === input.conversationId).at(-1)
      : undefined;
    const mention = `@${MASTODON_BRAND}`;
    const text = new RegExp(`${mention}\\b`, 'i').test(input.text) ? input.text : `${mention} ${input.text}`;
    const visibility = previous?.visibility === 'direct' || input.direct ? 'direct' : 'public';
    if (mastodonLength(text) > MAX_CHARACTERS) {
      return {
        platform: 'mastodon',
        id: `refused-${Date.now()}`,
        conversationId: input.conversationId ?? '',
        kind: 'customer',
        author: { name: author.displayName, handle: author.acct },
        text,
        at: new Date().toISOString(),
        status: `Mastodon refused the status: over ${MAX_CHARACTERS} characters`,
      };
    }
    const status = this.api.addStatus({
      author,
      text,
      visibility,
      ...(previous ? { inReplyTo: previous } : {}),
    });
    this.emit('change');
    return this.itemOf(status);
  }

  items(): CustomerItem[] {
    return this.posts.map((s) => this.itemOf(s));
  }

  /** The first status of the thread a status belongs to: its conversation on the page. */
  private conversationOf(status: FakeMastodonStatus): string {
    let current = status;
    for (let depth = 0; current.inReplyToId && depth < 100; depth += 1) {
      const parent = this.posts.find((s) => s.id === current.inReplyToId);
      if (!parent) break;
      current = parent;
    }
    return current.id;
  }

  private itemOf(status: FakeMastodonStatus): CustomerItem {
    const author = this.api.users.get(status.accountId) as FakeMastodonUser;
    const own = author.id === this.api.brand().id;
    const seen = this.api.calls.some((c) => c.path === '/api/v1/notifications' && c.status === 200);
    return {
      platform: 'mastodon',
      id: status.id,
      conversationId: this.conversationOf(status),
      parentId: status.inReplyToId ?? undefined,
      kind: own ? (status.visibility === 'direct' ? 'private' : 'brand') : 'customer',
      author: {
        name: author.displayName,
        handle: author.acct,
        ...(own ? {} : { followers: author.followers }),
      },
      text: status.text,
      at: status.createdAt,
      url: status.url,
      ...(own
        ? {}
        : {
            status: `${status.visibility === 'direct' ? 'private mention' : 'public'} · ${seen ? 'carebot polls every few seconds' : 'waiting for carebot'}`,
          }),
    };
  }

  private customer(input: NewPost): FakeMastodonUser {
    const username = handleOf(input);
    let user = [...this.api.users.values()].find((u) => u.username === username);
    if (!user)
      user = this.api.addUser({ username, displayName: input.name, followers: input.followers ?? 0 });
    user.displayName = input.name || user.displayName;
    if (input.followers !== undefined) user.followers = input.followers;
    return user;
  }
}
