import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from '../../src/logger.js';
import type { XAccount } from '../../src/sources/x/config.js';
import { X_MAX_WEIGHTED_LENGTH, xLength } from '../../src/sources/x/limits.js';
import {
  type CustomerItem,
  type CustomerSide,
  CustomersOnApi,
  deliverToCarebot,
  handleOf,
  type NewPost,
} from '../customer-side.js';
import { type ApiCall, idSequence } from '../http.js';
import {
  credentialsOf,
  type FakeX,
  type FakeXTweet,
  type FakeXUser,
  type SentOnX,
  startFakeX,
} from './api.js';

/**
 * The sandbox's X: customers on the X API emulator (api.ts) that carebot's real X source talks to
 * (X_API_URL), and the Account Activity webhook that X would send. A customer's post is delivered to
 * carebot's `/sources/x/webhook` signed with the app's consumer secret, as X signs it; carebot's
 * mentions poller reads the same posts from `GET /2/users/:id/mentions`; its answers arrive at
 * `POST /2/tweets` (or as a direct message), OAuth 1.0a-signed, and appear under the post they
 * answer. Requests with a bad signature get X's 401 and change nothing.
 */

export type XBrandAccount = Omit<XAccount, 'channel' | 'keywords'>;

/** A direct message from the brand, shown in the customer's latest conversation. */
interface DirectMessage {
  id: string;
  text: string;
  createdAt: string;
  conversationId: string;
  inReplyTo: string | undefined;
}

export const X_BRAND_HANDLE = 'acmecare';
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class SandboxX extends CustomersOnApi<FakeX> implements CustomerSide {
  readonly platform = 'x' as const;
  private readonly directMessages: DirectMessage[] = [];
  private readonly nextUserId = idSequence(1_600_000_000_000_000_000n);

  private constructor(
    readonly account: XBrandAccount,
    webhookUrl: () => string,
    logger: Logger,
  ) {
    super(webhookUrl, logger);
  }

  static async start(webhookUrl: () => string, logger: Logger): Promise<SandboxX> {
    const userId = '1600000000000000000';
    const account: XBrandAccount = {
      name: X_BRAND_HANDLE,
      userId,
      consumerKey: randomBytes(12).toString('hex'),
      consumerSecret: randomBytes(24).toString('hex'),
      accessToken: `${userId}-${randomBytes(12).toString('hex')}`,
      accessSecret: randomBytes(24).toString('hex'),
    };
    const x = new SandboxX(account, webhookUrl, logger.child({ sandbox: 'x' }));
    x.api = await startFakeX({
      credentials: [credentialsOf({ ...account, channel: '', keywords: [] })],
      keepCalls: 200,
      onSent: (sent) => x.sent(sent),
    });
    x.api.addUser({ id: userId, username: X_BRAND_HANDLE, name: 'Acme Care', followers: 48_000 });
    return x;
  }

  /** Every post on the fake X, customers' and the brand's, oldest first. */
  get tweets(): FakeXTweet[] {
    return this.api.tweets;
  }

  /** The API requests carebot made, newest last (the last 200), for tests and troubleshooting. */
  get calls(): ApiCall[] {
    return this.api.calls.map(({ method, path, status }) => ({ method, path, status }));
  }

  /** X's CRC check of the registered webhook: carebot must answer with the HMAC of the token. */
  async checkWebhook(): Promise<boolean> {
    const token = randomBytes(16).toString('base64url');
    return this.verifyWebhook('X webhook CRC check', async () => {
      const res = await fetch(`${this.webhookUrl()}?crc_token=${token}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { response_token?: string };
      return res.ok && body.response_token === xSignature(token, this.account.consumerSecret);
    });
  }

  /** A customer posts (mentioning the brand); a follow-up answers the conversation's latest post. */
  async post(input: NewPost): Promise<CustomerItem> {
    const user = this.customer(input);
    const previous = input.conversationId
      ? this.tweets.filter((t) => t.conversationId === input.conversationId).at(-1)
      : undefined;
    const mention = `@${X_BRAND_HANDLE}`;
    const text = new RegExp(`${mention}\\b`, 'i').test(input.text) ? input.text : `${mention} ${input.text}`;
    if (xLength(text) > X_MAX_WEIGHTED_LENGTH) {
      // Refused before it exists on X: shown once on the page, never stored.
      const refused: FakeXTweet = {
        id: `refused-${Date.now()}`,
        text,
        authorId: user.id,
        createdAt: new Date().toISOString(),
        conversationId: previous?.conversationId ?? '',
        mentions: [],
      };
      return {
        ...this.itemOf(refused),
        status: `X refused the post: over ${X_MAX_WEIGHTED_LENGTH} characters`,
      };
    }
    const tweet = this.api.addTweet({
      text,
      authorId: user.id,
      ...(previous
        ? {
            conversationId: previous.conversationId,
            inReplyToUserId: previous.authorId,
            referencedTweets: [{ type: 'replied_to' as const, id: previous.id }],
          }
        : {}),
      mentions: [this.account.userId],
    });
    this.emit('change');
    this.statuses.set(tweet.id, await this.deliver(tweet));
    this.emit('change');
    return this.itemOf(tweet);
  }

  items(): CustomerItem[] {
    const posts = this.tweets.map((t) => this.itemOf(t));
    const direct = this.directMessages.map((dm) => this.directItem(dm));
    return [...posts, ...direct].sort((a, b) => a.at.localeCompare(b.at));
  }

  /** carebot sent a post or a direct message through the API. */
  private sent(sent: SentOnX): void {
    if (sent.kind === 'post') {
      const tweet = this.tweets.find((t) => t.id === sent.id);
      // X sends the account's own posts to its webhook too; carebot must recognise and skip them.
      if (tweet) {
        setImmediate(() => {
          void this.deliver(tweet);
        });
      }
    } else if (sent.participantId) {
      // Shown in the customer's latest conversation, marked private: only they see it on X.
      const latest = this.tweets.filter((t) => t.authorId === sent.participantId).at(-1);
      this.directMessages.push({
        id: sent.id,
        text: sent.text,
        createdAt: new Date().toISOString(),
        conversationId: latest?.conversationId ?? `dm:${sent.participantId}`,
        inReplyTo: latest?.id,
      });
    }
    this.emit('change');
  }

  private itemOf(tweet: FakeXTweet): CustomerItem {
    const author = this.api.users.get(tweet.authorId);
    const own = tweet.authorId === this.account.userId;
    return {
      platform: 'x',
      id: tweet.id,
      conversationId: tweet.conversationId,
      parentId: parentOf(tweet),
      kind: own ? 'brand' : 'customer',
      author: {
        name: author?.name ?? tweet.authorId,
        handle: author?.username,
        ...(own ? {} : { followers: author?.followers }),
      },
      text: tweet.text,
      at: tweet.createdAt,
      url: `https://x.com/${author?.username ?? 'i/web'}/status/${tweet.id}`,
      status: this.statuses.get(tweet.id),
    };
  }

  private directItem(dm: DirectMessage): CustomerItem {
    return {
      platform: 'x',
      id: dm.id,
      conversationId: dm.conversationId,
      parentId: dm.inReplyTo,
      kind: 'private',
      author: { name: 'Acme Care', handle: X_BRAND_HANDLE },
      text: dm.text,
      at: dm.createdAt,
    };
  }

  private customer(input: NewPost): FakeXUser {
    const username = handleOf(input);
    let user = [...this.api.users.values()].find((u) => u.username === username);
    if (!user) user = this.api.addUser({ id: this.nextUserId(), username, name: input.name, followers: 0 });
    user.name = input.name || user.name;
    if (input.followers !== undefined) user.followers = input.followers;
    return user;
  }

  /** An Account Activity delivery of one post, signed as X signs it. */
  private async deliver(tweet: FakeXTweet): Promise<string> {
    const body = JSON.stringify({
      for_user_id: this.account.userId,
      tweet_create_events: [this.activityTweet(tweet)],
    });
    return deliverToCarebot(this.webhookUrl(), body, {
      'x-twitter-webhooks-signature': xSignature(body, this.account.consumerSecret),
    });
  }

  /** The v1.1 shape the Account Activity API delivers: users embedded, long text in extended_tweet. */
  private activityTweet(tweet: FakeXTweet) {
    const user = this.api.users.get(tweet.authorId) as FakeXUser;
    const parentId = parentOf(tweet);
    const parent = parentId ? this.tweets.find((t) => t.id === parentId) : undefined;
    const parentAuthor = parent ? this.api.users.get(parent.authorId) : undefined;
    const text = escapeTweetText(tweet.text);
    const long = text.length > 140;
    return {
      created_at: v11Time(new Date(tweet.createdAt)),
      id: Number(tweet.id),
      id_str: tweet.id,
      text: long ? `${text.slice(0, 139)}…` : text,
      truncated: long,
      ...(long ? { extended_tweet: { full_text: text } } : {}),
      in_reply_to_status_id: parent ? Number(parent.id) : null,
      in_reply_to_status_id_str: parent?.id ?? null,
      in_reply_to_user_id_str: parentAuthor?.id ?? null,
      in_reply_to_screen_name: parentAuthor?.username ?? null,
      user: {
        id: Number(user.id),
        id_str: user.id,
        name: user.name,
        screen_name: user.username,
        followers_count: user.followers ?? 0,
      },
      entities: {
        user_mentions: tweet.text.includes(`@${X_BRAND_HANDLE}`)
          ? [{ id_str: this.account.userId, screen_name: X_BRAND_HANDLE }]
          : [],
      },
    };
  }
}

function parentOf(tweet: FakeXTweet): string | undefined {
  return tweet.referencedTweets?.find((r) => r.type === 'replied_to')?.id;
}

/** `sha256=` + base64 HMAC-SHA256, keyed by the consumer secret: X's webhook signature and CRC answer. */
function xSignature(data: string, consumerSecret: string): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(data, 'utf8').digest('base64')}`;
}

/** X escapes `&`, `<` and `>` in post text. */
function escapeTweetText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** "Wed Oct 10 20:19:24 +0000 2018", the v1.1 time format. */
function v11Time(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[at.getUTCDay()]} ${MONTHS[at.getUTCMonth()]} ${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())} +0000 ${at.getUTCFullYear()}`;
}
