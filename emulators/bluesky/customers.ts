import { randomBytes } from 'node:crypto';
import type { Logger } from '../../src/logger.js';
import type { BlueskyAccount } from '../../src/sources/bluesky/config.js';
import { BLUESKY_MAX_GRAPHEMES, graphemeLength } from '../../src/sources/bluesky/limits.js';
import {
  type CustomerItem,
  type CustomerSide,
  CustomersOnApi,
  handleOf,
  type NewPost,
} from '../customer-side.js';
import type { ApiCall } from '../http.js';
import { type FakeBluesky, type FakeBlueskyPost, startFakeBluesky } from './api.js';

/**
 * The sandbox's Bluesky: customers on the XRPC emulator (api.ts) that carebot's real Bluesky source
 * signs in to (BLUESKY_SERVICE_URL) with the brand's app password. Bluesky has no webhooks: a
 * customer's post mentions the brand, and carebot finds it in the brand's notifications at its next
 * poll; its answers arrive through `com.atproto.repo.createRecord` as replies in the thread and
 * appear under the post they answer.
 */

export type BlueskyBrandAccount = Pick<BlueskyAccount, 'name' | 'identifier' | 'appPassword'>;

export const BLUESKY_BRAND_HANDLE = 'acme.bsky.social';

export class SandboxBluesky extends CustomersOnApi<FakeBluesky> implements CustomerSide {
  readonly platform = 'bluesky' as const;
  private brandDid = '';

  private constructor(
    readonly account: BlueskyBrandAccount,
    logger: Logger,
  ) {
    // carebot polls Bluesky: nothing is delivered to it.
    super(() => '', logger);
  }

  static async start(logger: Logger): Promise<SandboxBluesky> {
    const account: BlueskyBrandAccount = {
      name: 'acme',
      identifier: BLUESKY_BRAND_HANDLE,
      // An app password as Bluesky shows it: four groups of four.
      appPassword: (randomBytes(8).toString('hex').match(/.{4}/g) ?? []).join('-'),
    };
    const bsky = new SandboxBluesky(account, logger.child({ sandbox: 'bluesky' }));
    bsky.api = await startFakeBluesky({
      credentials: [
        {
          handle: account.identifier,
          did: 'did:plc:acmecare2sandbox7brand4aa',
          appPassword: account.appPassword,
          displayName: 'Acme Care',
          followers: 31_000,
        },
      ],
      onSent: () => bsky.emit('change'),
    });
    bsky.brandDid = 'did:plc:acmecare2sandbox7brand4aa';
    return bsky;
  }

  /** The XRPC calls carebot made, newest last, for tests and troubleshooting. */
  get calls(): ApiCall[] {
    return this.api.calls.map(({ method, nsid, status }) => ({ method, path: `/xrpc/${nsid}`, status }));
  }

  get posts(): FakeBlueskyPost[] {
    return this.api.posts;
  }

  /** A customer posts mentioning the brand; a follow-up answers the conversation's latest post. */
  async post(input: NewPost): Promise<CustomerItem> {
    const handle = `${handleOf(input).replace(/_/g, '-')}.bsky.social`;
    const actor =
      [...this.api.actors.values()].find((a) => a.handle === handle) ??
      this.api.addActor({ handle, displayName: input.name, followers: input.followers ?? 0 });
    actor.displayName = input.name || actor.displayName;
    if (input.followers !== undefined) actor.followers = input.followers;
    const previous = input.conversationId
      ? this.posts.filter((p) => conversationOf(p) === input.conversationId).at(-1)
      : undefined;
    const mention = `@${BLUESKY_BRAND_HANDLE}`;
    const text = previous || input.text.includes(mention) ? input.text : `${mention} ${input.text}`;
    if (graphemeLength(text) > BLUESKY_MAX_GRAPHEMES) {
      return {
        platform: 'bluesky',
        id: `refused-${Date.now()}`,
        conversationId: previous ? conversationOf(previous) : '',
        kind: 'customer',
        author: { name: input.name, handle },
        text,
        at: new Date().toISOString(),
        status: `Bluesky refused the post: over ${BLUESKY_MAX_GRAPHEMES} characters`,
      };
    }
    const post = this.api.addPost({ author: actor, text, ...(previous ? { replyTo: previous } : {}) });
    this.statuses.set(post.uri, 'posted; carebot reads it at its next poll');
    this.emit('change');
    return this.itemOf(post);
  }

  items(): CustomerItem[] {
    return this.posts.map((p) => this.itemOf(p));
  }

  private itemOf(post: FakeBlueskyPost): CustomerItem {
    const author = this.api.actors.get(post.authorDid);
    const own = post.authorDid === this.brandDid;
    const parent = (post.record.reply as { parent?: { uri: string } } | undefined)?.parent?.uri;
    return {
      platform: 'bluesky',
      id: post.uri,
      conversationId: conversationOf(post),
      parentId: parent,
      kind: own ? 'brand' : 'customer',
      author: {
        name: author?.displayName ?? author?.handle ?? post.authorDid,
        handle: author?.handle,
        ...(own ? {} : { followers: author?.followers }),
      },
      text: post.record.text,
      at: post.indexedAt,
      url: `https://bsky.app/profile/${author?.handle ?? post.authorDid}/post/${post.rkey}`,
      status: this.statuses.get(post.uri),
    };
  }
}

function conversationOf(post: FakeBlueskyPost): string {
  return (post.record.reply as { root?: { uri: string } } | undefined)?.root?.uri ?? post.uri;
}
