import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RedditAccount } from '../../src/sources/reddit/config.js';
import { type Answer, closeServer, FailureQueue, listenOnLoopback, readText, sendAnswer } from '../http.js';

/**
 * A local Reddit that answers like Reddit: the script-app token endpoint
 * (`POST /api/v1/access_token`, HTTP Basic with the app's id and secret, password grant), and the
 * OAuth API (bearer token, User-Agent required) with listings (`{kind: 'Listing', data: {children,
 * after, before}}`, newest first, `limit`, `after`, `before`, HTML-escaped text unless `raw_json=1`),
 * the inbox, `POST /api/comment` answering in `{json: {errors, data: {things}}}`, and
 * `x-ratelimit-*` headers counting down to a 429.
 */

export interface FakeRedditCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

export interface FakeRedditPost {
  id: string;
  name: string;
  subreddit: string;
  title: string;
  selftext: string;
  author: string;
  createdUtc: number;
  permalink: string;
  /** A link post's target; absent for a text post. */
  url?: string | undefined;
  locked: boolean;
  archived: boolean;
}

export interface FakeRedditComment {
  id: string;
  name: string;
  subreddit: string;
  body: string;
  author: string;
  createdUtc: number;
  linkId: string;
  parentId: string;
  permalink: string;
}

export interface FakeRedditMessage {
  id: string;
  name: string;
  author: string;
  dest: string;
  subject: string;
  body: string;
  createdUtc: number;
}

export interface FakeRedditCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The form fields of a POST. */
  form: Record<string, string>;
  userAgent: string | undefined;
  /** The bearer token of an API call. */
  bearer: string | undefined;
  /** HTTP Basic credentials of a token request. */
  basic: { user: string; password: string } | undefined;
  status: number;
}

export interface FakeRedditFailure {
  status: number;
  headers?: Record<string, string>;
  /** Defaults to Reddit's `{"message", "error"}` for the status. */
  body?: unknown;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** How many matching requests go through first (default 0). */
  after?: number;
  /** Do the request's work anyway and only answer with the failure: "it posted, then the answer was lost". */
  apply?: boolean;
}

export interface FakeReddit {
  url: string;
  calls: FakeRedditCall[];
  callsTo(method: string, pathPrefix: string): FakeRedditCall[];
  /** Requests to the token endpoint. */
  tokenCalls(): FakeRedditCall[];
  posts: FakeRedditPost[];
  comments: FakeRedditComment[];
  messages: FakeRedditMessage[];
  /** Comments made through `POST /api/comment`, in order. */
  sent: FakeRedditComment[];
  addPost(input: {
    title: string;
    author: string;
    subreddit?: string;
    selftext?: string;
    url?: string;
    createdAt?: string | Date;
    locked?: boolean;
    archived?: boolean;
  }): FakeRedditPost;
  addComment(input: {
    /** The post or comment it answers, or its fullname. */
    parent: FakeRedditPost | FakeRedditComment | string;
    body: string;
    author: string;
    createdAt?: string | Date;
  }): FakeRedditComment;
  /** A private message (`t4`) in `to`'s inbox. */
  addMessage(input: { author: string; to: string; subject: string; body: string }): FakeRedditMessage;
  /** The next request(s) whose path starts with `pathPrefix` get this answer instead. */
  failNext(pathPrefix: string, failure: FakeRedditFailure): void;
  /** Sets what the next API answer counts down from, and the seconds until the window resets. */
  setRateLimit(limit: { remaining: number; resetIn: number }): void;
  /** Every token issued so far stops working (the API answers 401). */
  revokeTokens(): void;
  close(): Promise<void>;
}

export interface FakeRedditOptions {
  /** The apps and accounts that may sign in. */
  credentials: FakeRedditCredentials[];
  /** The test's clock: creation times of things and expiry of tokens. */
  now?: () => Date;
  /** `expires_in` of issued tokens, in seconds (Reddit: 86400). */
  expiresIn?: number;
}

/** A Reddit account for tests; its secrets are made up and must never show up in logs or errors. */
export function fakeRedditAccount(over: Partial<RedditAccount> = {}): RedditAccount {
  return {
    name: 'brand',
    clientId: 'rd-test-client-id',
    clientSecret: 'rd-test-client-secret',
    username: 'AcmeCare',
    password: 'rd-test-password',
    subreddits: ['acme'],
    keywords: [],
    channel: 'CRDCARE',
    ...over,
  };
}

export function credentialsOf(account: RedditAccount): FakeRedditCredentials {
  return {
    clientId: account.clientId,
    clientSecret: account.clientSecret,
    username: account.username,
    password: account.password,
  };
}

/** A `json.errors` answer of `POST /api/comment`, e.g. `redditErrors(['THREAD_LOCKED', 'Comments are locked.', 'parent'])`. */
export function redditErrors(...errors: Array<[string, string, string]>): FakeRedditFailure {
  return { status: 200, body: { json: { errors } } };
}

const JSON_TYPE = 'application/json; charset=UTF-8';
const WINDOW_SECONDS = 600;
const WINDOW_REQUESTS = 1000;

const statusBody = (status: number) => ({
  message:
    { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' }[status] ?? 'Error',
  error: status,
});

export async function startFakeReddit(options: FakeRedditOptions): Promise<FakeReddit> {
  const now = options.now ?? (() => new Date());
  const nowUtc = () => Math.floor(now().getTime() / 1000);
  const calls: FakeRedditCall[] = [];
  const posts: FakeRedditPost[] = [];
  const comments: FakeRedditComment[] = [];
  const messages: FakeRedditMessage[] = [];
  const sent: FakeRedditComment[] = [];
  const tokens = new Map<string, { username: string; expiresAt: number; revoked: boolean }>();
  const failures = new FailureQueue<FakeRedditFailure>();
  let limit = { remaining: WINDOW_REQUESTS, used: 0, resetAt: 0 };
  let counter = 0;
  // Base-36 ids that grow with time, as Reddit's do (and cross a length boundary now and then).
  const nextId = (base: number) => {
    counter += 1;
    return (base + counter).toString(36);
  };

  const permalinkOf = (sub: string, postId: string, title: string) =>
    `/r/${sub}/comments/${postId}/${title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '')
      .slice(0, 50)}/`;

  const addPost: FakeReddit['addPost'] = (input) => {
    const id = nextId(36 ** 5);
    const subreddit = input.subreddit ?? 'acme';
    const post: FakeRedditPost = {
      id,
      name: `t3_${id}`,
      subreddit,
      title: input.title,
      selftext: input.selftext ?? '',
      author: input.author,
      createdUtc: Math.floor(new Date(input.createdAt ?? now()).getTime() / 1000),
      permalink: permalinkOf(subreddit, id, input.title),
      url: input.url,
      locked: input.locked ?? false,
      archived: input.archived ?? false,
    };
    posts.push(post);
    return post;
  };

  const find = (name: string): FakeRedditPost | FakeRedditComment | undefined =>
    name.startsWith('t3_') ? posts.find((p) => p.name === name) : comments.find((c) => c.name === name);

  const addComment: FakeReddit['addComment'] = (input) => {
    const parentName = typeof input.parent === 'string' ? input.parent : input.parent.name;
    const parent = find(parentName);
    if (!parent) throw new TypeError(`fake reddit: no parent ${parentName}`);
    const post = 'linkId' in parent ? posts.find((p) => p.name === parent.linkId) : parent;
    if (!post) throw new TypeError(`fake reddit: no post for ${parentName}`);
    const id = nextId(36 ** 6);
    const comment: FakeRedditComment = {
      id,
      name: `t1_${id}`,
      subreddit: post.subreddit,
      body: input.body,
      author: input.author,
      createdUtc: Math.floor(new Date(input.createdAt ?? now()).getTime() / 1000),
      linkId: post.name,
      parentId: parent.name,
      permalink: `${post.permalink}${id}/`,
    };
    comments.push(comment);
    return comment;
  };

  const addMessage: FakeReddit['addMessage'] = (input) => {
    const id = nextId(36 ** 4);
    const message = { id, name: `t4_${id}`, ...input, dest: input.to, createdUtc: nowUtc() };
    messages.push(message);
    return message;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const raw = await readText(req);
    const form = /x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')
      ? Object.fromEntries(new URLSearchParams(raw))
      : {};
    const authorization = req.headers.authorization ?? '';
    const bearer = /^bearer (.+)$/i.exec(authorization)?.[1];
    const basicText = /^basic (.+)$/i.exec(authorization)?.[1];
    const basicPair = basicText ? Buffer.from(basicText, 'base64').toString() : undefined;
    const call: FakeRedditCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      form,
      userAgent: req.headers['user-agent'],
      bearer,
      basic: basicPair
        ? {
            user: basicPair.slice(0, basicPair.indexOf(':')),
            password: basicPair.slice(basicPair.indexOf(':') + 1),
          }
        : undefined,
      status: 0,
    };
    const failure = failures.take(call.method, call.path);
    let answer: Answer;
    if (failure && !failure.apply) answer = failureAnswer(failure);
    else {
      answer = call.path === '/api/v1/access_token' ? issueToken(call) : api(call);
      if (failure) answer = failureAnswer(failure);
    }
    call.status = answer.status;
    calls.push(call);
    send(res, answer);
  };

  const failureAnswer = (failure: FakeRedditFailure): Answer => {
    const headers =
      failure.status === 429
        ? {
            'x-ratelimit-used': String(limit.used),
            'x-ratelimit-remaining': '0.0',
            'x-ratelimit-reset': String(Math.max(1, limit.resetAt - nowUtc())),
            ...failure.headers,
          }
        : failure.headers;
    return {
      status: failure.status,
      ...(headers ? { headers } : {}),
      body: failure.body ?? statusBody(failure.status),
    };
  };

  const issueToken = (call: FakeRedditCall): Answer => {
    const app = options.credentials.find(
      (c) => c.clientId === call.basic?.user && c.clientSecret === call.basic?.password,
    );
    if (call.method !== 'POST' || !app) return { status: 401, body: statusBody(401) };
    if (call.form.grant_type !== 'password')
      return { status: 200, body: { error: 'unsupported_grant_type' } };
    // Only a developer of the app may sign in through it, with that account's password.
    const account = options.credentials.find(
      (c) =>
        c.clientId === app.clientId &&
        c.username.toLowerCase() === (call.form.username ?? '').toLowerCase() &&
        c.password === call.form.password,
    );
    if (!account) return { status: 200, body: { error: 'invalid_grant' } };
    const expiresIn = options.expiresIn ?? 86_400;
    const value = `fake-token-${tokens.size + 1}-${account.username}`;
    tokens.set(value, {
      username: account.username,
      expiresAt: now().getTime() + expiresIn * 1000,
      revoked: false,
    });
    return {
      status: 200,
      body: { access_token: value, token_type: 'bearer', expires_in: expiresIn, scope: '*' },
    };
  };

  const api = (call: FakeRedditCall): Answer => {
    const token = call.bearer ? tokens.get(call.bearer) : undefined;
    if (!token || token.revoked || token.expiresAt <= now().getTime()) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="reddit", error="invalid_token"' },
        body: statusBody(401),
      };
    }
    if (!call.userAgent || /^(node|undici)$/i.test(call.userAgent)) {
      return { status: 403, body: { message: 'fake reddit: send a descriptive User-Agent', error: 403 } };
    }
    if (nowUtc() >= limit.resetAt)
      limit = { remaining: WINDOW_REQUESTS, used: 0, resetAt: nowUtc() + WINDOW_SECONDS };
    if (limit.remaining < 1) return failureAnswer({ status: 429 });
    limit.remaining -= 1;
    limit.used += 1;
    const answer = route(call, token.username);
    return {
      ...answer,
      headers: {
        'x-ratelimit-used': String(limit.used),
        'x-ratelimit-remaining': `${limit.remaining}.0`,
        'x-ratelimit-reset': String(limit.resetAt - nowUtc()),
        ...answer.headers,
      },
    };
  };

  const route = (call: FakeRedditCall, username: string): Answer => {
    if (call.method === 'GET' && call.path === '/api/v1/me') {
      return {
        status: 200,
        body: { name: username, id: `t2_${username.toLowerCase()}`, is_suspended: false },
      };
    }
    const raw = call.query.raw_json === '1';
    const sub = /^\/r\/([A-Za-z0-9_]+)\/(new|comments)$/.exec(call.path);
    if (call.method === 'GET' && sub?.[1]) {
      const name = sub[1].toLowerCase();
      if (sub[2] === 'new') {
        return listing(
          call.query,
          posts.filter((p) => p.subreddit.toLowerCase() === name).map((p) => renderPost(p, raw)),
        );
      }
      return listing(
        call.query,
        comments.filter((c) => c.subreddit.toLowerCase() === name).map((c) => renderComment(c, raw)),
      );
    }
    if (call.method === 'GET' && call.path === '/message/mentions') {
      return listing(
        call.query,
        mentionsOf(username).map((c) => renderInboxComment(c, 'username_mention', raw)),
      );
    }
    if (call.method === 'GET' && call.path === '/message/inbox') {
      const replies = comments.filter((c) => {
        const parent = find(c.parentId);
        return parent?.author.toLowerCase() === username.toLowerCase() && !isSelf(c.author, username);
      });
      const items = [
        ...replies.map((c) =>
          renderInboxComment(c, c.parentId.startsWith('t3_') ? 'post_reply' : 'comment_reply', raw),
        ),
        ...mentionsOf(username)
          .filter((c) => !replies.includes(c))
          .map((c) => renderInboxComment(c, 'username_mention', raw)),
        ...messages.filter((m) => isSelf(m.dest, username)).map((m) => renderMessage(m, raw)),
      ];
      return listing(call.query, items);
    }
    const user = /^\/user\/([A-Za-z0-9_-]+)\/comments$/.exec(call.path);
    if (call.method === 'GET' && user?.[1]) {
      const who = user[1];
      return listing(
        call.query,
        comments.filter((c) => isSelf(c.author, who)).map((c) => renderComment(c, raw)),
      );
    }
    if (call.method === 'POST' && call.path === '/api/comment') return postComment(call.form, username);
    return { status: 404, body: statusBody(404) };
  };

  const isSelf = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const mentionsOf = (username: string) =>
    comments.filter(
      (c) =>
        !isSelf(c.author, username) &&
        new RegExp(`(^|[^A-Za-z0-9_/])/?u/${username}(?![A-Za-z0-9_-])`, 'i').test(c.body),
    );

  const postComment = (form: Record<string, string>, username: string): Answer => {
    if (form.api_type !== 'json') {
      return { status: 200, body: { jquery: [[0, 1, 'call', ['body']]], success: true } };
    }
    const errors = (code: string, message: string, field: string): Answer => ({
      status: 200,
      body: { json: { errors: [[code, message, field]] } },
    });
    const parent = find(form.thing_id ?? '');
    if (!parent) {
      return (form.thing_id ?? '').startsWith('t3_')
        ? errors('DELETED_LINK', 'the link you are commenting on has been deleted', 'parent')
        : errors('DELETED_COMMENT', 'that comment has been deleted', 'parent');
    }
    const post = 'linkId' in parent ? posts.find((p) => p.name === parent.linkId) : parent;
    if (post?.locked) return errors('THREAD_LOCKED', 'Comments are locked.', 'parent');
    if (post?.archived) {
      return errors('TOO_OLD', "that's a piece of history now; it's too late to reply to it", 'parent');
    }
    const text = form.text ?? '';
    if (!text.trim()) return errors('NO_TEXT', 'we need something here', 'text');
    if ([...text].length > 10_000) return errors('TOO_LONG', 'this is too long (max: 10000)', 'text');
    const comment = addComment({ parent, body: text, author: username });
    sent.push(comment);
    return {
      status: 200,
      body: { json: { errors: [], data: { things: [renderComment(comment, true)] } } },
    };
  };

  const listing = (
    query: Record<string, string>,
    items: Array<{ kind: string; data: Record<string, unknown> }>,
  ) => {
    const limitParam = Math.min(Math.max(Number(query.limit ?? 25) || 25, 1), 100);
    let list = [...items].sort(
      (a, b) =>
        (b.data.created_utc as number) - (a.data.created_utc as number) ||
        compareIds(b.data.id as string, a.data.id as string),
    );
    if (query.after) {
      const at = list.findIndex((i) => i.data.name === query.after);
      list = at === -1 ? [] : list.slice(at + 1);
    } else if (query.before) {
      const at = list.findIndex((i) => i.data.name === query.before);
      list = at === -1 ? [] : list.slice(0, at);
    }
    const page = list.slice(0, limitParam);
    const more = list.length > page.length;
    return {
      status: 200,
      body: {
        kind: 'Listing',
        data: {
          after: more ? (page.at(-1)?.data.name ?? null) : null,
          before: query.after ? (page[0]?.data.name ?? null) : null,
          dist: page.length,
          children: page,
        },
      },
    };
  };

  const renderPost = (p: FakeRedditPost, raw: boolean) => ({
    kind: 't3',
    data: {
      id: p.id,
      name: p.name,
      subreddit: p.subreddit,
      subreddit_name_prefixed: `r/${p.subreddit}`,
      title: text(p.title, raw),
      selftext: text(p.selftext, raw),
      author: p.author,
      author_fullname: `t2_${p.author.toLowerCase()}`,
      created_utc: p.createdUtc,
      created: p.createdUtc,
      permalink: p.permalink,
      url: p.url ?? `https://www.reddit.com${p.permalink}`,
      is_self: p.url === undefined,
      locked: p.locked,
      archived: p.archived,
      num_comments: comments.filter((c) => c.linkId === p.name).length,
      score: 1,
    },
  });

  const renderComment = (c: FakeRedditComment, raw: boolean) => {
    const post = posts.find((p) => p.name === c.linkId);
    return {
      kind: 't1',
      data: {
        id: c.id,
        name: c.name,
        subreddit: c.subreddit,
        body: text(c.body, raw),
        author: c.author,
        created_utc: c.createdUtc,
        created: c.createdUtc,
        link_id: c.linkId,
        parent_id: c.parentId,
        permalink: c.permalink,
        link_title: post ? text(post.title, raw) : undefined,
        link_permalink: post ? `https://www.reddit.com${post.permalink}` : undefined,
        score: 1,
      },
    };
  };

  /** Inbox comments have `context` and `was_comment`, and no `link_id` or `permalink`. */
  const renderInboxComment = (c: FakeRedditComment, type: string, raw: boolean) => {
    const post = posts.find((p) => p.name === c.linkId);
    return {
      kind: 't1',
      data: {
        id: c.id,
        name: c.name,
        author: c.author,
        body: text(c.body, raw),
        created_utc: c.createdUtc,
        created: c.createdUtc,
        context: `${c.permalink}?context=3`,
        parent_id: c.parentId,
        subreddit: c.subreddit,
        link_title: post ? text(post.title, raw) : undefined,
        was_comment: true,
        type,
        subject: type.replace('_', ' '),
        new: true,
      },
    };
  };

  const renderMessage = (m: FakeRedditMessage, raw: boolean) => ({
    kind: 't4',
    data: {
      id: m.id,
      name: m.name,
      author: m.author,
      dest: m.dest,
      subject: m.subject,
      body: text(m.body, raw),
      created_utc: m.createdUtc,
      was_comment: false,
      new: true,
    },
  });

  const { server, url } = await listenOnLoopback(
    (req, res) => handle(req, res),
    (error, res) => {
      if (!res.headersSent)
        send(res, { status: 500, body: { message: `fake reddit crashed: ${String(error)}` } });
    },
  );

  return {
    url,
    calls,
    callsTo: (method, prefix) => calls.filter((c) => c.method === method && c.path.startsWith(prefix)),
    tokenCalls: () => calls.filter((c) => c.path === '/api/v1/access_token'),
    posts,
    comments,
    messages,
    sent,
    addPost,
    addComment,
    addMessage,
    failNext: (prefix, failure) => {
      failures.add(prefix, failure);
    },
    setRateLimit: ({ remaining, resetIn }) => {
      limit = { remaining, used: WINDOW_REQUESTS - remaining, resetAt: nowUtc() + resetIn };
    },
    revokeTokens: () => {
      for (const token of tokens.values()) token.revoked = true;
    },
    close: () => closeServer(server),
  };
}

/** Without `raw_json=1`, Reddit escapes `&`, `<` and `>` in texts. */
const text = (value: string, raw: boolean) =>
  raw ? value : value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reddit's own spelling of the JSON content type. */
function send(res: ServerResponse, answer: Answer): void {
  sendAnswer(res, { ...answer, headers: { 'content-type': JSON_TYPE, ...answer.headers } });
}
