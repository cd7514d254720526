import type { IncomingMessage, ServerResponse } from 'node:http';
import type { XAccount } from '../../src/sources/x/config.js';
import { X_MAX_WEIGHTED_LENGTH, xLength } from '../../src/sources/x/limits.js';
import {
  type Answer,
  closeServer,
  FailureQueue,
  isRecord,
  listenOnLoopback,
  readRequest,
  sendAnswer,
} from '../http.js';
import { compareIds, oauthParams, oauthSignatureValid } from './oauth1.js';

/**
 * A local X API v2 that answers like X: `data`, `includes.users`, `meta` (newest first, `since_id`,
 * `start_time`, `max_results`, `pagination_token`), errors in X's problem shape, 429 with
 * `x-rate-limit-*` headers, and OAuth 1.0a signatures checked when it knows the credentials.
 * Tests seed it and inject failures; the sandbox's customer side (customers.ts) runs on it too.
 */

export interface FakeXUser {
  id: string;
  username: string;
  name: string;
  followers?: number;
}

export interface FakeXTweetInput {
  /** Generated when absent: increasing ids beyond 2^53, so a Number() anywhere would show. */
  id?: string;
  text: string;
  /** The author's id; or `author`, which also adds the user. */
  authorId?: string;
  author?: FakeXUser;
  createdAt?: string | Date;
  conversationId?: string;
  inReplyToUserId?: string;
  referencedTweets?: Array<{ type: 'retweeted' | 'quoted' | 'replied_to'; id: string }>;
  /** Ids of the users it mentions (its text's @usernames count too). */
  mentions?: string[];
}

export interface FakeXTweet {
  id: string;
  text: string;
  authorId: string;
  createdAt: string;
  conversationId: string;
  inReplyToUserId?: string | undefined;
  referencedTweets?: Array<{ type: string; id: string }> | undefined;
  mentions: string[];
}

export interface FakeXCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** An Authorization header starting with `OAuth ` was sent. */
  oauth: boolean;
  consumerKey: string | undefined;
  token: string | undefined;
  /** Whether the OAuth signature checked out; undefined when the fake has no credentials to check. */
  signatureValid: boolean | undefined;
  status: number;
}

export interface FakeXFailure {
  status: number;
  headers?: Record<string, string>;
  /** Defaults to X's problem JSON for the status. */
  body?: unknown;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** How many matching requests go through first (default 0), e.g. 1 to fail the second page. */
  after?: number;
}

export interface FakeXCredentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessSecret: string;
  /** The user the access token belongs to: the author of what it posts. */
  userId: string;
}

export interface SentOnX {
  kind: 'post' | 'dm';
  id: string;
  text: string;
  inReplyTo?: string | undefined;
  participantId?: string | undefined;
  /** A direct message's quick-reply options (`quick_reply.options`), as the account sent them. */
  quickReplies?: Array<{ label: string; metadata: string }> | undefined;
  token: string | undefined;
}

export interface FakeX {
  /** Base URL without a trailing slash, as X_API_URL. */
  url: string;
  calls: FakeXCall[];
  callsTo(method: string, pathPrefix: string): FakeXCall[];
  users: Map<string, FakeXUser>;
  tweets: FakeXTweet[];
  /** Posts and direct messages sent through the API, in order. */
  sent: SentOnX[];
  addUser(user: FakeXUser): FakeXUser;
  addTweet(input: FakeXTweetInput): FakeXTweet;
  /** The next request(s) whose path starts with `pathPrefix` get this answer instead. */
  failNext(pathPrefix: string, failure: FakeXFailure): void;
  close(): Promise<void>;
}

export interface FakeXOptions {
  /** When given, requests must be signed with one of these, or get X's 401. */
  credentials?: FakeXCredentials[];
  /** Default creation time of seeded posts (the test's clock). */
  now?: () => Date;
  /** Keep only the newest this many calls (a long-running sandbox); default all. */
  keepCalls?: number;
  /** Told of each post or direct message sent through the API, once it is stored. */
  onSent?: (sent: SentOnX) => void;
}

/** An X account for tests; its secrets are made up and must never show up in logs or errors. */
export function fakeXAccount(over: Partial<XAccount> = {}): XAccount {
  return {
    name: 'brand',
    userId: '1700000000000000001',
    consumerKey: 'ck-test-consumer-key',
    consumerSecret: 'cs-test-consumer-secret',
    accessToken: '1700000000000000001-at-test-access-token',
    accessSecret: 'as-test-access-secret',
    channel: 'CXCARE',
    keywords: [],
    ...over,
  };
}

/** What the fake needs to check the account's signatures. */
export function credentialsOf(account: XAccount): FakeXCredentials {
  return {
    consumerKey: account.consumerKey,
    consumerSecret: account.consumerSecret,
    accessToken: account.accessToken,
    accessSecret: account.accessSecret,
    userId: account.userId,
  };
}

const ID_BASE = 1_862_000_000_000_000_000n;

const PROBLEMS: Record<number, { title: string; detail: string; type: string }> = {
  400: {
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.x.com/2/problems/invalid-request',
  },
  401: { title: 'Unauthorized', detail: 'Unauthorized', type: 'about:blank' },
  403: { title: 'Forbidden', detail: 'You are not permitted to perform this action.', type: 'about:blank' },
  404: { title: 'Not Found Error', detail: 'Could not find the resource.', type: 'about:blank' },
  429: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank' },
  500: { title: 'Internal Server Error', detail: 'Something went wrong.', type: 'about:blank' },
  503: { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank' },
};

const problem = (status: number, detail?: string) => {
  const p = PROBLEMS[status] ?? { title: `HTTP ${status}`, detail: `HTTP ${status}`, type: 'about:blank' };
  return { title: p.title, detail: detail ?? p.detail, type: p.type, status };
};

export async function startFakeX(options: FakeXOptions = {}): Promise<FakeX> {
  const now = options.now ?? (() => new Date());
  const calls: FakeXCall[] = [];
  const users = new Map<string, FakeXUser>();
  const tweets: FakeXTweet[] = [];
  const sent: SentOnX[] = [];
  const failures = new FailureQueue<FakeXFailure>();
  let counter = 0n;
  const nextId = () => {
    counter += 1n;
    // An odd step keeps ids off the doubles near 1.8e18 (256 apart), so a rounded id never matches.
    return String(ID_BASE + counter * 1_000_003n);
  };

  const record = (item: SentOnX) => {
    sent.push(item);
    options.onSent?.(item);
  };

  const addUser = (user: FakeXUser) => {
    users.set(user.id, user);
    return user;
  };

  const addTweet = (input: FakeXTweetInput): FakeXTweet => {
    if (input.author) addUser(input.author);
    const authorId = input.author?.id ?? input.authorId;
    if (!authorId) throw new TypeError('addTweet needs authorId or author');
    const id = input.id ?? nextId();
    const tweet: FakeXTweet = {
      id,
      text: input.text,
      authorId,
      createdAt: new Date(input.createdAt ?? now()).toISOString(),
      conversationId: input.conversationId ?? id,
      inReplyToUserId: input.inReplyToUserId,
      referencedTweets: input.referencedTweets,
      mentions: input.mentions ?? [],
    };
    tweets.push(tweet);
    return tweet;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { url, body } = await readRequest(req, 'raw');
    const auth = checkAuth(req, url, options.credentials);
    const call: FakeXCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      oauth: auth.oauth,
      consumerKey: auth.consumerKey,
      token: auth.token,
      signatureValid: auth.valid,
      status: 0,
    };
    const answer =
      injected(call.method, call.path) ??
      (auth.ok ? route(call, auth.userId) : { status: 401, body: problem(401) });
    call.status = answer.status;
    calls.push(call);
    if (options.keepCalls !== undefined && calls.length > options.keepCalls) {
      calls.splice(0, calls.length - options.keepCalls);
    }
    sendAnswer(res, answer);
  };

  const injected = (method: string, path: string): Answer | undefined => {
    const failure = failures.take(method, path);
    if (!failure) return undefined;
    const headers =
      failure.status === 429
        ? {
            'x-rate-limit-limit': '300',
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': String(Math.floor(now().getTime() / 1000) + 15 * 60),
            ...failure.headers,
          }
        : failure.headers;
    return {
      status: failure.status,
      ...(headers ? { headers } : {}),
      body: failure.body ?? problem(failure.status),
    };
  };

  const route = (call: FakeXCall, userId: string | undefined): Answer => {
    if (call.method === 'GET' && call.path === '/2/users/me') {
      // X's access tokens start with the id of the user they belong to: `<user id>-<random>`.
      const id = userId ?? call.token?.split('-')[0] ?? '';
      const user = users.get(id);
      return {
        status: 200,
        body: { data: { id, username: user?.username ?? `user${id}`, name: user?.name ?? id } },
      };
    }
    const mentions = /^\/2\/users\/(\d+)\/mentions$/.exec(call.path);
    if (call.method === 'GET' && mentions?.[1]) {
      const user = users.get(mentions[1]);
      const mentioned = (t: FakeXTweet) =>
        t.mentions.includes(mentions[1] as string) ||
        (user !== undefined && new RegExp(`@${user.username}\\b`, 'i').test(t.text));
      return timeline(call.query, tweets.filter(mentioned), 5);
    }
    if (call.method === 'GET' && call.path === '/2/tweets/search/recent') {
      const query = call.query.query;
      if (!query) return invalid('query', '', 'The `query` query parameter can not be empty');
      return timeline(call.query, tweets.filter(searchMatcher(query, users)), 10);
    }
    if (call.method === 'POST' && call.path === '/2/tweets') return postTweet(call.body, userId, call.token);
    const dm = /^\/2\/dm_conversations\/with\/(\d+)\/messages$/.exec(call.path);
    if (call.method === 'POST' && dm?.[1]) return sendDm(dm[1], call.body, userId, call.token);
    if (call.method === 'POST' && call.path === '/1.1/direct_messages/events/new.json')
      return createDmEvent(call.body, userId, call.token);
    return { status: 404, body: problem(404, `fake X: no route for ${call.method} ${call.path}`) };
  };

  const timeline = (query: Record<string, string>, matching: FakeXTweet[], minResults: number): Answer => {
    const max = query.max_results === undefined ? 10 : Number(query.max_results);
    if (!Number.isInteger(max) || max < minResults || max > 100) {
      return invalid(
        'max_results',
        query.max_results ?? '',
        `The \`max_results\` query parameter value [${query.max_results}] is not between ${minResults} and 100`,
      );
    }
    let list = [...matching].sort((a, b) => compareIds(b.id, a.id));
    if (query.since_id) list = list.filter((t) => compareIds(t.id, query.since_id as string) > 0);
    if (query.start_time) {
      const start = Date.parse(query.start_time);
      if (Number.isNaN(start)) return invalid('start_time', query.start_time, 'Invalid start_time');
      list = list.filter((t) => Date.parse(t.createdAt) >= start);
    }
    if (query.pagination_token) {
      const before = Buffer.from(query.pagination_token, 'base64url').toString();
      if (!/^\d+$/.test(before)) return invalid('pagination_token', query.pagination_token, 'Invalid token');
      list = list.filter((t) => compareIds(t.id, before) < 0);
    }
    const page = list.slice(0, max);
    const last = page.at(-1);
    if (!last) return { status: 200, body: { meta: { result_count: 0 } } };
    const fields = new Set((query['tweet.fields'] ?? '').split(','));
    const userFields = new Set((query['user.fields'] ?? '').split(','));
    const expandAuthors = (query.expansions ?? '').split(',').includes('author_id');
    const authors = [...new Set(page.map((t) => t.authorId))].flatMap((id) => {
      const u = users.get(id);
      return u ? [renderUser(u, userFields)] : [];
    });
    return {
      status: 200,
      headers: { 'x-rate-limit-limit': '300', 'x-rate-limit-remaining': '299' },
      body: {
        data: page.map((t) => renderTweet(t, fields)),
        ...(expandAuthors && authors.length ? { includes: { users: authors } } : {}),
        meta: {
          result_count: page.length,
          newest_id: page[0]?.id,
          oldest_id: last.id,
          ...(list.length > page.length ? { next_token: Buffer.from(last.id).toString('base64url') } : {}),
        },
      },
    };
  };

  const postTweet = (body: unknown, userId: string | undefined, token: string | undefined): Answer => {
    const b = isRecord(body) ? body : {};
    const text = typeof b.text === 'string' ? b.text : '';
    if (!text) return { status: 400, body: problem(400, 'Post text must not be empty.') };
    if (xLength(text) > X_MAX_WEIGHTED_LENGTH) {
      return { status: 403, body: problem(403, 'Your Tweet text is too long.') };
    }
    const replyTo = isRecord(b.reply) ? b.reply.in_reply_to_tweet_id : undefined;
    if (replyTo !== undefined && typeof replyTo !== 'string') {
      return invalid('reply.in_reply_to_tweet_id', String(replyTo), 'in_reply_to_tweet_id must be a string');
    }
    const parent = replyTo ? tweets.find((t) => t.id === replyTo) : undefined;
    if (replyTo && !parent) {
      return {
        status: 400,
        body: problem(
          400,
          'Your Tweet cannot be sent because the Tweet you are replying to has been deleted or is not visible to you.',
        ),
      };
    }
    if (sent.some((s) => s.kind === 'post' && s.token === token && s.text === text)) {
      return {
        status: 403,
        body: problem(403, 'You are not allowed to create a Tweet with duplicate content.'),
      };
    }
    const tweet = addTweet({
      text,
      authorId: userId ?? '0',
      conversationId: parent?.conversationId,
      inReplyToUserId: parent?.authorId,
      referencedTweets: parent ? [{ type: 'replied_to', id: parent.id }] : undefined,
    });
    record({ kind: 'post', id: tweet.id, text, inReplyTo: replyTo, token });
    return { status: 201, body: { data: { id: tweet.id, text, edit_history_tweet_ids: [tweet.id] } } };
  };

  const sendDm = (
    participantId: string,
    body: unknown,
    userId: string | undefined,
    token: string | undefined,
  ) => {
    const text = isRecord(body) && typeof body.text === 'string' ? body.text : '';
    if (!text) return { status: 400, body: problem(400, 'Message text must not be empty.') };
    const id = nextId();
    const pair = [userId ?? '0', participantId].sort(compareIds);
    record({ kind: 'dm', id, text, participantId, token });
    return { status: 201, body: { data: { dm_conversation_id: pair.join('-'), dm_event_id: id } } };
  };

  /** v1.1 message_create: the one DM endpoint X documents quick-reply options for (up to 20). */
  const createDmEvent = (body: unknown, userId: string | undefined, token: string | undefined): Answer => {
    const event = isRecord(body) && isRecord(body.event) ? body.event : {};
    const create = isRecord(event.message_create) ? event.message_create : {};
    const target = isRecord(create.target) ? create.target.recipient_id : undefined;
    const data = isRecord(create.message_data) ? create.message_data : {};
    const text = typeof data.text === 'string' ? data.text : '';
    if (event.type !== 'message_create' || typeof target !== 'string' || !/^\d+$/.test(target) || !text) {
      return { status: 400, body: { errors: [{ code: 214, message: 'event.message_create is invalid.' }] } };
    }
    let quickReplies: SentOnX['quickReplies'];
    if (data.quick_reply !== undefined) {
      const q = isRecord(data.quick_reply) ? data.quick_reply : {};
      const options = Array.isArray(q.options) ? q.options : [];
      const valid =
        q.type === 'options' &&
        options.length > 0 &&
        options.length <= 20 &&
        options.every(
          (o) =>
            isRecord(o) &&
            typeof o.label === 'string' &&
            o.label.length > 0 &&
            o.label.length <= 36 &&
            (o.metadata === undefined || (typeof o.metadata === 'string' && o.metadata.length <= 1000)),
        );
      if (!valid)
        return { status: 400, body: { errors: [{ code: 214, message: 'quick_reply is invalid.' }] } };
      quickReplies = options.map((o) => ({ label: String(o.label), metadata: String(o.metadata ?? '') }));
    }
    const id = nextId();
    record({ kind: 'dm', id, text, participantId: target, token, quickReplies });
    return {
      status: 200,
      body: {
        event: {
          type: 'message_create',
          id,
          created_timestamp: String(now().getTime()),
          message_create: { target: { recipient_id: target }, sender_id: userId ?? '0', message_data: data },
        },
      },
    };
  };

  const { server, url } = await listenOnLoopback(
    (req, res) => handle(req, res),
    (error, res) => {
      if (!res.headersSent)
        sendAnswer(res, { status: 500, body: problem(500, `fake X crashed: ${String(error)}`) });
    },
  );

  return {
    url,
    calls,
    callsTo: (method, pathPrefix) =>
      calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix)),
    users,
    tweets,
    sent,
    addUser,
    addTweet,
    failNext: (prefix, failure) => {
      failures.add(prefix, failure);
    },
    close: () => closeServer(server),
  };
}

const invalid = (parameter: string, value: string, message: string): Answer => ({
  status: 400,
  body: { errors: [{ parameters: { [parameter]: [value] }, message }], ...problem(400) },
});

/** X escapes `&`, `<` and `>` in post text. */
const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function renderTweet(t: FakeXTweet, fields: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, text: escapeText(t.text), edit_history_tweet_ids: [t.id] };
  if (fields.has('author_id')) out.author_id = t.authorId;
  if (fields.has('created_at')) out.created_at = t.createdAt;
  if (fields.has('conversation_id')) out.conversation_id = t.conversationId;
  if (fields.has('in_reply_to_user_id') && t.inReplyToUserId) out.in_reply_to_user_id = t.inReplyToUserId;
  if (fields.has('referenced_tweets') && t.referencedTweets) out.referenced_tweets = t.referencedTweets;
  return out;
}

function renderUser(u: FakeXUser, fields: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: u.id, name: u.name, username: u.username };
  if (fields.has('public_metrics')) {
    out.public_metrics = {
      followers_count: u.followers ?? 0,
      following_count: 0,
      tweet_count: 0,
      listed_count: 0,
    };
  }
  return out;
}

/**
 * The part of X's query language carebot uses: `(a OR "b c") -is:retweet -from:<id or name>`.
 * Any positive term found in the text (case-insensitively) matches.
 */
function searchMatcher(query: string, users: Map<string, FakeXUser>): (t: FakeXTweet) => boolean {
  const tokens = query.match(/-?"[^"]*"|-?[^\s()"]+/g) ?? [];
  const terms: string[] = [];
  const excludedAuthors: string[] = [];
  let noRetweets = false;
  for (const token of tokens) {
    if (token === 'OR') continue;
    if (token === '-is:retweet') noRetweets = true;
    else if (token.startsWith('-from:')) excludedAuthors.push(token.slice('-from:'.length).toLowerCase());
    else if (!token.startsWith('-')) terms.push(token.replace(/^"|"$/g, '').toLowerCase());
  }
  return (t) => {
    if (noRetweets && t.referencedTweets?.some((r) => r.type === 'retweeted')) return false;
    const author = users.get(t.authorId);
    if (excludedAuthors.some((a) => a === t.authorId || a === author?.username.toLowerCase())) return false;
    const text = t.text.toLowerCase();
    return terms.some((term) => text.includes(term));
  };
}

interface AuthCheck {
  ok: boolean;
  oauth: boolean;
  consumerKey: string | undefined;
  token: string | undefined;
  valid: boolean | undefined;
  userId: string | undefined;
}

/** Reads the OAuth 1.0a header and, with known credentials, checks its HMAC-SHA1 signature. */
function checkAuth(req: IncomingMessage, url: URL, credentials: FakeXCredentials[] | undefined): AuthCheck {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('OAuth ')) {
    return {
      ok: false,
      oauth: false,
      consumerKey: undefined,
      token: undefined,
      valid: undefined,
      userId: undefined,
    };
  }
  const params = oauthParams(header) ?? new Map<string, string>();
  const consumerKey = params.get('oauth_consumer_key');
  const token = params.get('oauth_token');
  const signature = params.get('oauth_signature');
  const base = { oauth: true, consumerKey, token };
  if (!consumerKey || !signature || params.get('oauth_signature_method') !== 'HMAC-SHA1') {
    return { ...base, ok: false, valid: false, userId: undefined };
  }
  if (!credentials) return { ...base, ok: true, valid: undefined, userId: undefined };
  const match = credentials.find((c) => c.consumerKey === consumerKey && c.accessToken === token);
  if (!match) return { ...base, ok: false, valid: false, userId: undefined };
  const valid = oauthSignatureValid(req.method ?? 'GET', url, params, match);
  return { ...base, ok: valid, valid, userId: valid ? match.userId : undefined };
}
