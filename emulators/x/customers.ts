import { createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../src/http/body.js';
import type { Logger } from '../../src/logger.js';
import type { XAccount } from '../../src/sources/x/config.js';
import { X_MAX_WEIGHTED_LENGTH, xLength } from '../../src/sources/x/limits.js';
import { type CustomerItem, type CustomerSide, handleOf, type NewPost } from '../customer-side.js';
import { type ApiCall, closeServer, idSequence, listenOnLoopback, recordCall, sendBody } from '../http.js';
import { compareIds, oauthParams, oauthSignatureValid } from './oauth1.js';

/**
 * The sandbox's X: a local X API v2 that carebot's real X source talks to (X_API_URL), and the
 * Account Activity webhook that X would send. A customer's post is delivered to carebot's
 * `/sources/x/webhook` signed with the app's consumer secret, as X signs it; carebot's mentions
 * poller reads the same posts from `GET /2/users/:id/mentions`; its answers arrive at
 * `POST /2/tweets` (or as a direct message), OAuth 1.0a-signed, and appear under the post they
 * answer. Requests with a bad signature get X's 401 and change nothing.
 */

export type XBrandAccount = Omit<XAccount, 'channel' | 'keywords'>;

interface XUserRecord {
  id: string;
  username: string;
  name: string;
  followers: number;
}

interface Tweet {
  id: string;
  text: string;
  authorId: string;
  createdAt: Date;
  conversationId: string;
  inReplyTo: string | undefined;
  /** A direct message rather than a post. */
  direct?: boolean;
  status?: string;
}

export const X_BRAND_HANDLE = 'acmecare';
const ID_BASE = 1_870_000_000_000_000_000n;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class SandboxX extends EventEmitter implements CustomerSide {
  readonly platform = 'x' as const;
  readonly account: XBrandAccount;
  /** Whether carebot answered X's challenge-response check (CRC) correctly at start. */
  webhookVerified = false;
  readonly tweets: Tweet[] = [];
  /** The API requests carebot made, newest last (the last 200), for tests and troubleshooting. */
  readonly calls: ApiCall[] = [];
  private readonly users = new Map<string, XUserRecord>();
  private readonly nextId = idSequence(ID_BASE);
  private readonly nextUserId = idSequence(1_600_000_000_000_000_000n);

  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly webhookUrl: () => string,
    private readonly logger: Logger,
  ) {
    super();
    this.account = {
      name: X_BRAND_HANDLE,
      userId: this.nextUserId(),
      consumerKey: randomBytes(12).toString('hex'),
      consumerSecret: randomBytes(24).toString('hex'),
      accessToken: '',
      accessSecret: randomBytes(24).toString('hex'),
    };
    this.account.accessToken = `${this.account.userId}-${randomBytes(12).toString('hex')}`;
    this.users.set(this.account.userId, {
      id: this.account.userId,
      username: X_BRAND_HANDLE,
      name: 'Acme Care',
      followers: 48_000,
    });
  }

  static async start(webhookUrl: () => string, logger: Logger): Promise<SandboxX> {
    let x: SandboxX | undefined;
    const { server, url } = await listenOnLoopback(
      (req, res) => (x as SandboxX).handle(req, res),
      (err, res) => {
        if (!res.headersSent) sendBody(res, 500, problem(500, `sandbox X failed: ${String(err)}`));
      },
    );
    x = new SandboxX(url, server, webhookUrl, logger.child({ sandbox: 'x' }));
    return x;
  }

  /** Where the fake API listens (127.0.0.1). */
  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** X's CRC check of the registered webhook: carebot must answer with the HMAC of the token. */
  async checkWebhook(): Promise<boolean> {
    const token = randomBytes(16).toString('base64url');
    try {
      const res = await fetch(`${this.webhookUrl()}?crc_token=${token}`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { response_token?: string };
      this.webhookVerified = res.ok && body.response_token === xSignature(token, this.account.consumerSecret);
    } catch {
      this.webhookVerified = false;
    }
    if (!this.webhookVerified) this.logger.warn('carebot did not pass the X webhook CRC check');
    return this.webhookVerified;
  }

  /** A customer posts (mentioning the brand); a follow-up answers the conversation's latest post. */
  async post(input: NewPost): Promise<CustomerItem> {
    const user = this.customer(input);
    const previous = input.conversationId
      ? this.tweets.filter((t) => t.conversationId === input.conversationId && !t.direct).at(-1)
      : undefined;
    const mention = `@${X_BRAND_HANDLE}`;
    const text = new RegExp(`${mention}\\b`, 'i').test(input.text) ? input.text : `${mention} ${input.text}`;
    const id = this.nextId();
    const tweet: Tweet = {
      id,
      text,
      authorId: user.id,
      createdAt: new Date(),
      conversationId: previous?.conversationId ?? id,
      inReplyTo: previous?.id,
    };
    if (xLength(text) > X_MAX_WEIGHTED_LENGTH) {
      tweet.status = `X refused the post: over ${X_MAX_WEIGHTED_LENGTH} characters`;
      return this.itemOf(tweet);
    }
    this.tweets.push(tweet);
    this.emit('change');
    tweet.status = await this.deliver(tweet);
    this.emit('change');
    return this.itemOf(tweet);
  }

  items(): CustomerItem[] {
    return this.tweets.map((t) => this.itemOf(t));
  }

  private itemOf(tweet: Tweet): CustomerItem {
    const author = this.users.get(tweet.authorId);
    const own = tweet.authorId === this.account.userId;
    return {
      platform: 'x',
      id: tweet.id,
      conversationId: tweet.conversationId,
      parentId: tweet.inReplyTo,
      kind: tweet.direct ? 'private' : own ? 'brand' : 'customer',
      author: {
        name: author?.name ?? tweet.authorId,
        handle: author?.username,
        ...(own ? {} : { followers: author?.followers }),
      },
      text: tweet.text,
      at: tweet.createdAt.toISOString(),
      url: tweet.direct ? undefined : `https://x.com/${author?.username ?? 'i/web'}/status/${tweet.id}`,
      status: tweet.status,
    };
  }

  private customer(input: NewPost): XUserRecord {
    const username = handleOf(input);
    let user = [...this.users.values()].find((u) => u.username === username);
    if (!user) {
      user = { id: this.nextUserId(), username, name: input.name, followers: 0 };
      this.users.set(user.id, user);
    }
    user.name = input.name || user.name;
    if (input.followers !== undefined) user.followers = input.followers;
    return user;
  }

  /** An Account Activity delivery of one post, signed as X signs it. */
  private async deliver(tweet: Tweet): Promise<string> {
    const body = JSON.stringify({
      for_user_id: this.account.userId,
      tweet_create_events: [this.activityTweet(tweet)],
    });
    try {
      const res = await fetch(this.webhookUrl(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twitter-webhooks-signature': xSignature(body, this.account.consumerSecret),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      return res.ok ? 'delivered to carebot' : `carebot answered HTTP ${res.status}`;
    } catch (err) {
      return `not delivered: ${(err as Error).message}`;
    }
  }

  /** The v1.1 shape the Account Activity API delivers: users embedded, long text in extended_tweet. */
  private activityTweet(tweet: Tweet) {
    const user = this.users.get(tweet.authorId) as XUserRecord;
    const parent = tweet.inReplyTo ? this.tweets.find((t) => t.id === tweet.inReplyTo) : undefined;
    const parentAuthor = parent ? this.users.get(parent.authorId) : undefined;
    const text = escapeTweetText(tweet.text);
    const long = text.length > 140;
    return {
      created_at: v11Time(tweet.createdAt),
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
        followers_count: user.followers,
      },
      entities: {
        user_mentions: tweet.text.includes(`@${X_BRAND_HANDLE}`)
          ? [{ id_str: this.account.userId, screen_name: X_BRAND_HANDLE }]
          : [],
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readBody(req, 1 << 20);
    const headers = rateLimitHeaders();
    if (!verifyOAuth(req.method ?? 'GET', url, req.headers.authorization, this.account)) {
      recordCall(this.calls, { method: req.method ?? 'GET', path: url.pathname, status: 401 });
      sendBody(res, 401, problem(401), headers);
      return;
    }
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      sendBody(res, 400, problem(400, 'The request body is not valid JSON'), headers);
      return;
    }
    const answer = this.route(req.method ?? 'GET', url, body);
    recordCall(this.calls, { method: req.method ?? 'GET', path: url.pathname, status: answer.status });
    sendBody(res, answer.status, answer.body, headers);
  }

  private route(method: string, url: URL, body: Record<string, unknown>): { status: number; body: unknown } {
    const mentions = /^\/2\/users\/(\d+)\/mentions$/.exec(url.pathname);
    if (method === 'GET' && mentions) {
      if (mentions[1] !== this.account.userId) return { status: 403, body: problem(403) };
      return this.mentionsTimeline(url.searchParams);
    }
    if (method === 'POST' && url.pathname === '/2/tweets') return this.createTweet(body);
    const dm = /^\/2\/dm_conversations\/with\/(\d+)\/messages$/.exec(url.pathname);
    if (method === 'POST' && dm?.[1]) return this.sendDirectMessage(dm[1], body);
    return { status: 404, body: problem(404, `no route for ${method} ${url.pathname}`) };
  }

  /** `GET /2/users/:id/mentions`: newest first, with since_id, start_time, max_results and paging. */
  private mentionsTimeline(query: URLSearchParams) {
    const max = Number(query.get('max_results') ?? 10);
    if (!Number.isInteger(max) || max < 5 || max > 100) {
      return {
        status: 400,
        body: invalid(
          'max_results',
          `The \`max_results\` query parameter value [${max}] is not between 5 and 100`,
        ),
      };
    }
    const sinceId = query.get('since_id');
    const startTime = query.get('start_time');
    const start = startTime ? Date.parse(startTime) : Number.NEGATIVE_INFINITY;
    if (Number.isNaN(start)) return { status: 400, body: invalid('start_time', 'Invalid start_time') };
    const mention = new RegExp(`@${X_BRAND_HANDLE}\\b`, 'i');
    const list = this.tweets
      .filter((t) => !t.direct && t.authorId !== this.account.userId && mention.test(t.text))
      .filter((t) => (sinceId ? compareIds(t.id, sinceId) > 0 : true))
      .filter((t) => t.createdAt.getTime() >= start)
      .sort((a, b) => compareIds(b.id, a.id));
    const offset = Number(query.get('pagination_token') ?? 0) || 0;
    const page = list.slice(offset, offset + max);
    if (page.length === 0) return { status: 200, body: { meta: { result_count: 0 } } };
    const authors = [...new Set(page.map((t) => t.authorId))].map((id) => this.users.get(id) as XUserRecord);
    return {
      status: 200,
      body: {
        data: page.map((t) => ({
          id: t.id,
          text: escapeTweetText(t.text),
          author_id: t.authorId,
          created_at: t.createdAt.toISOString(),
          conversation_id: t.conversationId,
          edit_history_tweet_ids: [t.id],
          ...(t.inReplyTo
            ? {
                in_reply_to_user_id: this.tweets.find((p) => p.id === t.inReplyTo)?.authorId,
                referenced_tweets: [{ type: 'replied_to', id: t.inReplyTo }],
              }
            : {}),
        })),
        includes: {
          users: authors.map((u) => ({
            id: u.id,
            name: u.name,
            username: u.username,
            public_metrics: { followers_count: u.followers },
          })),
        },
        meta: {
          result_count: page.length,
          newest_id: page[0]?.id,
          oldest_id: page.at(-1)?.id,
          ...(offset + max < list.length ? { next_token: String(offset + max) } : {}),
        },
      },
    };
  }

  /** `POST /2/tweets` as the brand: a reply goes under the post it names, in that post's conversation. */
  private createTweet(body: Record<string, unknown>) {
    const text = typeof body.text === 'string' ? body.text : '';
    if (!text.trim()) return { status: 400, body: invalid('text', 'text must not be empty') };
    if (xLength(text) > X_MAX_WEIGHTED_LENGTH) {
      return { status: 403, body: problem(403, 'Your Tweet text is too long.') };
    }
    const reply = (body.reply ?? {}) as { in_reply_to_tweet_id?: unknown };
    const parentId = typeof reply.in_reply_to_tweet_id === 'string' ? reply.in_reply_to_tweet_id : undefined;
    const parent = parentId ? this.tweets.find((t) => t.id === parentId && !t.direct) : undefined;
    if (parentId && !parent) {
      return {
        status: 403,
        body: problem(403, 'You attempted to reply to a Tweet that is deleted or not visible to you.'),
      };
    }
    if (this.tweets.some((t) => t.authorId === this.account.userId && t.text === text)) {
      return {
        status: 403,
        body: problem(403, 'You are not allowed to create a Tweet with duplicate content.'),
      };
    }
    const id = this.nextId();
    const tweet: Tweet = {
      id,
      text,
      authorId: this.account.userId,
      createdAt: new Date(),
      conversationId: parent?.conversationId ?? id,
      inReplyTo: parent?.id,
    };
    this.tweets.push(tweet);
    this.emit('change');
    // X sends the account's own posts to its webhook too; carebot must recognise and skip them.
    setImmediate(() => {
      void this.deliver(tweet);
    });
    return { status: 201, body: { data: { id, text, edit_history_tweet_ids: [id] } } };
  }

  private sendDirectMessage(participantId: string, body: Record<string, unknown>) {
    const text = typeof body.text === 'string' ? body.text : '';
    if (!text.trim()) return { status: 400, body: invalid('text', 'text must not be empty') };
    if (!this.users.has(participantId) || participantId === this.account.userId) {
      return { status: 404, body: problem(404, 'Could not find the user to message.') };
    }
    // Shown in the customer's latest conversation, marked private: only they see it on X.
    const latest = this.tweets.filter((t) => t.authorId === participantId && !t.direct).at(-1);
    const id = this.nextId();
    this.tweets.push({
      id,
      text,
      authorId: this.account.userId,
      createdAt: new Date(),
      conversationId: latest?.conversationId ?? `dm:${participantId}`,
      inReplyTo: latest?.id,
      direct: true,
    });
    this.emit('change');
    const [a, b] = [this.account.userId, participantId].sort(compareIds);
    return { status: 201, body: { data: { dm_conversation_id: `${a}-${b}`, dm_event_id: id } } };
  }
}

/** `sha256=` + base64 HMAC-SHA256, keyed by the consumer secret: X's webhook signature and CRC answer. */
function xSignature(data: string, consumerSecret: string): string {
  return `sha256=${createHmac('sha256', consumerSecret).update(data, 'utf8').digest('base64')}`;
}

/** Checks an OAuth 1.0a request the way X does, for the brand account's credentials. */
function verifyOAuth(method: string, url: URL, header: string | undefined, account: XBrandAccount): boolean {
  const params = oauthParams(header);
  if (
    !params ||
    params.get('oauth_consumer_key') !== account.consumerKey ||
    params.get('oauth_token') !== account.accessToken ||
    params.get('oauth_signature_method') !== 'HMAC-SHA1'
  ) {
    return false;
  }
  return oauthSignatureValid(method, url, params, account);
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

function rateLimitHeaders(): Record<string, string> {
  return {
    'x-rate-limit-limit': '300',
    'x-rate-limit-remaining': '299',
    'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 900),
  };
}

const TITLES: Record<number, string> = {
  400: 'Invalid Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found Error',
  500: 'Internal Server Error',
};

function problem(status: number, detail?: string) {
  const title = TITLES[status] ?? `HTTP ${status}`;
  return { title, detail: detail ?? title, type: 'about:blank', status };
}

function invalid(parameter: string, message: string) {
  return {
    errors: [{ parameters: { [parameter]: [] }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.x.com/2/problems/invalid-request',
  };
}
