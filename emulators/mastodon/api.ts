import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MastodonAccount } from '../../src/sources/mastodon/config.js';
import {
  type Answer,
  closeServer,
  FailureQueue,
  type FailureRule,
  idSequence,
  isRecord,
  listenOnLoopback,
  readRequest,
  sendAnswer,
} from '../http.js';

/**
 * A local Mastodon instance that answers like one: bearer tokens (`{"error": "The access token is
 * invalid"}` on 401), `GET /api/v1/accounts/verify_credentials`, `GET /api/v1/notifications` with
 * `types[]`, `max_id`, `since_id`, `min_id`, `limit` (at most 80) and a `Link` header
 * (`rel="next"` with `max_id`, `rel="prev"` with `min_id`), `GET /api/v1/statuses/:id`,
 * `POST /api/v1/statuses` (JSON or form) honouring `Idempotency-Key` per token for an hour,
 * `GET /api/v1/accounts/:id/statuses` (newest first), `GET /api/v2/instance`,
 * 422 on a status over the limit, and a 429 with `X-RateLimit-Reset` (an ISO time) past the limit.
 * Status content is HTML, as Mastodon renders it: paragraphs, `<br>`, mention and hashtag links.
 */

export interface FakeMastodonUser {
  id: string;
  username: string;
  /** `user` on this instance, `user@domain` from elsewhere. */
  acct: string;
  displayName: string;
  followers: number;
  url: string;
}

export type Visibility = 'public' | 'unlisted' | 'private' | 'direct';

export interface FakeMastodonStatus {
  id: string;
  accountId: string;
  /** The text as written (carebot's replies, customers' posts); `content` is its HTML. */
  text: string;
  content: string;
  spoilerText: string;
  visibility: Visibility;
  inReplyToId: string | null;
  inReplyToAccountId: string | null;
  mentions: FakeMastodonUser[];
  createdAt: string;
  url: string;
}

export interface FakeMastodonNotification {
  id: string;
  type: 'mention' | 'favourite' | 'follow' | 'reblog';
  accountId: string;
  statusId: string | null;
  forAccountId: string;
  createdAt: string;
}

export interface FakeMastodonCall {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  bearer: string | undefined;
  idempotencyKey: string | undefined;
  status: number;
}

export interface FakeMastodonFailure extends FailureRule {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Do the request's work anyway and only answer with the failure: "it posted, then the answer was lost". */
  apply?: boolean;
}

export interface FakeMastodon {
  url: string;
  host: string;
  calls: FakeMastodonCall[];
  callsTo(method: string, pathPrefix: string): FakeMastodonCall[];
  users: Map<string, FakeMastodonUser>;
  statuses: FakeMastodonStatus[];
  notifications: FakeMastodonNotification[];
  /** Statuses posted through `POST /api/v1/statuses`, in order (a replayed key adds none). */
  sent: FakeMastodonStatus[];
  /** The brand account behind a token. */
  brand(token?: string): FakeMastodonUser;
  addUser(input: {
    username: string;
    domain?: string;
    displayName?: string;
    followers?: number;
  }): FakeMastodonUser;
  /**
   * A status by `author`; every account it mentions on this instance (by `@user` in the text or
   * `mentions`) gets a `mention` notification.
   */
  addStatus(input: {
    author: FakeMastodonUser;
    text: string;
    visibility?: Visibility;
    inReplyTo?: FakeMastodonStatus | string;
    spoilerText?: string;
    mentions?: FakeMastodonUser[];
    createdAt?: string | Date;
  }): FakeMastodonStatus;
  /** A notification of another type (a favourite), which carebot must not take for a mention. */
  addNotification(input: {
    type: FakeMastodonNotification['type'];
    from: FakeMastodonUser;
    status?: FakeMastodonStatus;
  }): FakeMastodonNotification;
  failNext(pathPrefix: string, failure: FakeMastodonFailure): void;
  /** Every token stops working (401), as when the user revokes the application. */
  revokeTokens(): void;
  setMaxCharacters(max: number): void;
  close(): Promise<void>;
}

export interface FakeMastodonOptions {
  /** Brand accounts: their token and username on this instance. */
  accounts: Array<{ token: string; username: string; displayName?: string }>;
  now?: () => Date;
  maxCharacters?: number;
  /** Called after a status was posted through the API (the sandbox redraws its page). */
  onSent?: (status: FakeMastodonStatus) => void;
  /** Requests allowed in a window before a 429 (default: no limit). */
  rateLimit?: { requests: number; windowSeconds: number };
}

/** A Mastodon account for tests; the token is made up and must never show up in logs or errors. */
export function fakeMastodonAccount(over: Partial<MastodonAccount> = {}): MastodonAccount {
  return {
    name: 'brand',
    url: 'http://127.0.0.1:1',
    accessToken: `mst-test-${randomBytes(6).toString('hex')}`,
    channel: 'C0MSTCARE1',
    ...over,
  };
}

const PAGE_DEFAULT = 40;
const PAGE_MAX = 80;

export async function startFakeMastodon(options: FakeMastodonOptions): Promise<FakeMastodon> {
  const now = options.now ?? (() => new Date());
  const calls: FakeMastodonCall[] = [];
  const users = new Map<string, FakeMastodonUser>();
  const statuses: FakeMastodonStatus[] = [];
  const notifications: FakeMastodonNotification[] = [];
  const sent: FakeMastodonStatus[] = [];
  const failures = new FailureQueue<FakeMastodonFailure>();
  const tokens = new Map<string, string>();
  /** Idempotency keys by token: the status each one posted. */
  const idempotency = new Map<string, { statusId: string; at: number }>();
  let revoked = false;
  let maxCharacters = options.maxCharacters ?? 500;
  let window = { start: 0, used: 0 };
  // Snowflake-like ids past 2^53 that grow with time, as Mastodon's do.
  const nextStatusId = idSequence(113_000_000_000_000_000n);
  const nextNotificationId = idSequence(9_000_000_000_000_000n);
  const nextUserId = idSequence(109_000_000_000_000_000n);
  let url = '';
  let host = '';

  const addUser: FakeMastodon['addUser'] = (input) => {
    const id = nextUserId();
    const acct = input.domain ? `${input.username}@${input.domain}` : input.username;
    const user: FakeMastodonUser = {
      id,
      username: input.username,
      acct,
      displayName: input.displayName ?? input.username,
      followers: input.followers ?? 0,
      url: input.domain
        ? `https://${input.domain}/@${input.username}`
        : `https://mastodon.example/@${input.username}`,
    };
    users.set(id, user);
    return user;
  };

  for (const account of options.accounts) {
    const user = addUser({
      username: account.username,
      displayName: account.displayName ?? account.username,
    });
    tokens.set(account.token, user.id);
  }

  const localUser = (username: string) =>
    [...users.values()].find((u) => u.acct.toLowerCase() === username.toLowerCase());

  const addStatus: FakeMastodon['addStatus'] = (input) => {
    const parent =
      typeof input.inReplyTo === 'string' ? statuses.find((s) => s.id === input.inReplyTo) : input.inReplyTo;
    const named = [...input.text.matchAll(/(?<![\w/])@([\w.]+(?:@[\w.-]+\w)?)/g)]
      .map((m) => localUser(m[1] ?? ''))
      .filter((u): u is FakeMastodonUser => Boolean(u));
    const mentions = [...new Map([...(input.mentions ?? []), ...named].map((u) => [u.id, u])).values()];
    const id = nextStatusId();
    const author = input.author;
    const status: FakeMastodonStatus = {
      id,
      accountId: author.id,
      text: input.text,
      content: renderContent(input.text, mentions),
      spoilerText: input.spoilerText ?? '',
      visibility: input.visibility ?? 'public',
      inReplyToId: parent?.id ?? null,
      inReplyToAccountId: parent?.accountId ?? null,
      mentions,
      createdAt: new Date(input.createdAt ?? now()).toISOString(),
      url: `${author.url}/${id}`,
    };
    statuses.push(status);
    for (const mentioned of mentions) {
      if (mentioned.id === author.id || mentioned.acct.includes('@')) continue;
      notifications.push({
        id: nextNotificationId(),
        type: 'mention',
        accountId: author.id,
        statusId: id,
        forAccountId: mentioned.id,
        createdAt: status.createdAt,
      });
    }
    return status;
  };

  const addNotification: FakeMastodon['addNotification'] = (input) => {
    const brandId = [...tokens.values()][0] ?? '';
    const notification: FakeMastodonNotification = {
      id: nextNotificationId(),
      type: input.type,
      accountId: input.from.id,
      statusId: input.status?.id ?? null,
      forAccountId: brandId,
      createdAt: now().toISOString(),
    };
    notifications.push(notification);
    return notification;
  };

  const accountJson = (u: FakeMastodonUser) => ({
    id: u.id,
    username: u.username,
    acct: u.acct,
    display_name: u.displayName,
    locked: false,
    bot: false,
    created_at: '2022-11-01T00:00:00.000Z',
    note: '',
    url: u.url,
    avatar: `${u.url}/avatar.png`,
    followers_count: u.followers,
    following_count: 0,
    statuses_count: statuses.filter((s) => s.accountId === u.id).length,
  });

  const statusJson = (s: FakeMastodonStatus) => ({
    id: s.id,
    created_at: s.createdAt,
    in_reply_to_id: s.inReplyToId,
    in_reply_to_account_id: s.inReplyToAccountId,
    sensitive: s.spoilerText !== '',
    spoiler_text: s.spoilerText,
    visibility: s.visibility,
    language: 'en',
    uri: `${url}/users/${users.get(s.accountId)?.username}/statuses/${s.id}`,
    url: s.url,
    replies_count: statuses.filter((r) => r.inReplyToId === s.id).length,
    reblogs_count: 0,
    favourites_count: 0,
    edited_at: null,
    content: s.content,
    reblog: null,
    account: accountJson(users.get(s.accountId) as FakeMastodonUser),
    media_attachments: [],
    mentions: s.mentions.map((m) => ({ id: m.id, username: m.username, url: m.url, acct: m.acct })),
    tags: [],
    emojis: [],
    card: null,
    poll: null,
  });

  const notificationJson = (n: FakeMastodonNotification) => {
    const status = n.statusId ? statuses.find((s) => s.id === n.statusId) : undefined;
    return {
      id: n.id,
      type: n.type,
      created_at: n.createdAt,
      account: accountJson(users.get(n.accountId) as FakeMastodonUser),
      ...(status ? { status: statusJson(status) } : {}),
    };
  };

  const error = (status: number, message: string, headers?: Record<string, string>): Answer => ({
    status,
    body: { error: message },
    ...(headers ? { headers } : {}),
  });

  const listNotifications = (brandId: string, query: URLSearchParams): Answer => {
    const types = query.getAll('types[]');
    const limit = Math.min(Number(query.get('limit')) || PAGE_DEFAULT, PAGE_MAX);
    const big = (id: string | null) => (id === null ? undefined : BigInt(id));
    const maxId = big(query.get('max_id'));
    const sinceId = big(query.get('since_id'));
    const minId = big(query.get('min_id'));
    let list = notifications
      .filter((n) => n.forAccountId === brandId && (types.length === 0 || types.includes(n.type)))
      .filter(
        (n) =>
          (maxId === undefined || BigInt(n.id) < maxId) && (sinceId === undefined || BigInt(n.id) > sinceId),
      )
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    // min_id: the page immediately newer than it (the oldest ones above it), still newest first.
    if (minId !== undefined) list = list.filter((n) => BigInt(n.id) > minId).slice(-limit);
    else list = list.slice(0, limit);
    const base = `${url}/api/v1/notifications`;
    const typeQuery = types.map((t) => `&types[]=${t}`).join('');
    const first = list[0];
    const last = list.at(-1);
    const links = [
      ...(last ? [`<${base}?max_id=${last.id}${typeQuery}>; rel="next"`] : []),
      ...(first ? [`<${base}?min_id=${first.id}${typeQuery}>; rel="prev"`] : []),
    ];
    return {
      status: 200,
      body: list.map(notificationJson),
      ...(links.length ? { headers: { link: links.join(', ') } } : {}),
    };
  };

  const postStatus = (brandId: string, body: unknown, key: string | undefined): Answer => {
    const fields = isRecord(body) ? body : {};
    const text = typeof fields.status === 'string' ? fields.status : '';
    if (!text.trim()) return error(422, "Validation failed: Text can't be blank");
    if (countLikeMastodon(text) > maxCharacters) {
      return error(422, `Validation failed: Text character limit of ${maxCharacters} exceeded`);
    }
    const replyTo = typeof fields.in_reply_to_id === 'string' ? fields.in_reply_to_id : undefined;
    if (replyTo && !statuses.some((s) => s.id === replyTo)) return error(404, 'Record not found');
    if (key) {
      const earlier = idempotency.get(`${brandId}:${key}`);
      if (earlier && now().getTime() - earlier.at < 3_600_000) {
        const status = statuses.find((s) => s.id === earlier.statusId) as FakeMastodonStatus;
        return { status: 200, body: statusJson(status) };
      }
    }
    const visibility = ['public', 'unlisted', 'private', 'direct'].includes(String(fields.visibility))
      ? (fields.visibility as Visibility)
      : 'public';
    const status = addStatus({
      author: users.get(brandId) as FakeMastodonUser,
      text,
      visibility,
      ...(replyTo ? { inReplyTo: replyTo } : {}),
      ...(typeof fields.spoiler_text === 'string' ? { spoilerText: fields.spoiler_text } : {}),
    });
    sent.push(status);
    if (key) idempotency.set(`${brandId}:${key}`, { statusId: status.id, at: now().getTime() });
    options.onSent?.(status);
    return { status: 200, body: statusJson(status) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { url: reqUrl, body } = await readRequest(req, 'form');
    const method = req.method ?? 'GET';
    const path = reqUrl.pathname;
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const idempotencyKey = (req.headers['idempotency-key'] as string | undefined) ?? undefined;
    const call: FakeMastodonCall = {
      method,
      path,
      query: reqUrl.searchParams,
      body,
      bearer,
      idempotencyKey,
      status: 0,
    };
    calls.push(call);
    const answer = route(method, path, reqUrl.searchParams, body, bearer, idempotencyKey);
    call.status = answer.status;
    sendAnswer(res, answer);
  };

  const route = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    bearer: string | undefined,
    key: string | undefined,
  ): Answer => {
    if (method === 'GET' && path === '/api/v2/instance') {
      return {
        status: 200,
        body: {
          domain: host,
          title: 'Fake Mastodon',
          version: '4.3.0',
          configuration: {
            statuses: {
              max_characters: maxCharacters,
              max_media_attachments: 4,
              characters_reserved_per_url: 23,
            },
          },
        },
      };
    }
    const brandId = bearer && !revoked ? tokens.get(bearer) : undefined;
    if (!brandId) return error(401, 'The access token is invalid');
    const failure = failures.take(method, path);
    if (failure && !failure.apply) {
      return {
        status: failure.status,
        headers: failure.headers ?? {},
        body: failure.body ?? { error: 'Failure' },
      };
    }
    if (options.rateLimit) {
      const t = now().getTime();
      if (t - window.start >= options.rateLimit.windowSeconds * 1000) window = { start: t, used: 0 };
      window.used += 1;
      const resetAt = new Date(window.start + options.rateLimit.windowSeconds * 1000).toISOString();
      if (window.used > options.rateLimit.requests) {
        return error(429, 'Too many requests', {
          'x-ratelimit-limit': String(options.rateLimit.requests),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': resetAt,
        });
      }
    }
    let answer: Answer;
    if (method === 'GET' && path === '/api/v1/accounts/verify_credentials') {
      answer = { status: 200, body: accountJson(users.get(brandId) as FakeMastodonUser) };
    } else if (method === 'GET' && path === '/api/v1/notifications') {
      answer = listNotifications(brandId, query);
    } else if (method === 'GET' && path.startsWith('/api/v1/statuses/')) {
      const status = statuses.find((s) => s.id === path.slice('/api/v1/statuses/'.length));
      const visible =
        status &&
        (status.visibility !== 'direct' ||
          status.accountId === brandId ||
          status.mentions.some((m) => m.id === brandId));
      answer = visible ? { status: 200, body: statusJson(status) } : error(404, 'Record not found');
    } else if (method === 'GET' && /^\/api\/v1\/accounts\/\d+\/statuses$/.test(path)) {
      const accountId = path.split('/')[4];
      const limit = Math.min(Number(query.get('limit')) || 20, 40);
      const own = statuses
        .filter((s) => s.accountId === accountId && (s.visibility !== 'direct' || accountId === brandId))
        .slice(-limit)
        .reverse();
      answer = { status: 200, body: own.map(statusJson) };
    } else if (method === 'POST' && path === '/api/v1/statuses') {
      answer = postStatus(brandId, body, key);
    } else {
      answer = error(404, 'Record not found');
    }
    if (failure?.apply) {
      return {
        status: failure.status,
        headers: failure.headers ?? {},
        body: failure.body ?? { error: 'Failure' },
      };
    }
    return answer;
  };

  const started = await listenOnLoopback(handle, (_err, res) => {
    sendAnswer(res, { status: 500, body: { error: 'Internal error' } });
  });
  url = started.url;
  host = new URL(url).host;

  return {
    url,
    host,
    calls,
    callsTo: (method, prefix) => calls.filter((c) => c.method === method && c.path.startsWith(prefix)),
    users,
    statuses,
    notifications,
    sent,
    brand: (token) =>
      users.get(token ? (tokens.get(token) ?? '') : ([...tokens.values()][0] ?? '')) as FakeMastodonUser,
    addUser,
    addStatus,
    addNotification,
    failNext: (prefix, failure) => failures.add(prefix, failure),
    revokeTokens: () => {
      revoked = true;
    },
    setMaxCharacters: (max) => {
      maxCharacters = max;
    },
    close: () => closeServer(started.server),
  };
}

/** Mastodon's HTML for a status: paragraphs, `<br>` lines, escaped text, mention links. */
function renderContent(text: string, mentions: FakeMastodonUser[]): string {
  const escapeHtml = (s: string) =>
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');
  return text
    .split(/\n{2,}/)
    .map((paragraph) => {
      const html = escapeHtml(paragraph).replace(
        /(?<![\w/])@([\w.]+(?:@[\w.-]+\w)?)/g,
        (whole, acct: string) => {
          const user = mentions.find((m) => m.acct.toLowerCase() === acct.toLowerCase());
          return user
            ? `<span class="h-card" translate="no"><a href="${user.url}" class="u-url mention">@<span>${user.username}</span></a></span>`
            : whole;
        },
      );
      return `<p>${html.replace(/\n/g, '<br />')}</p>`;
    })
    .join('');
}

/** The instance's own count (URLs 23, remote mentions by their local part). */
function countLikeMastodon(text: string): number {
  const countable = text.replace(/https?:\/\/\S+/g, 'x'.repeat(23)).replace(/@(\w+)@[\w.-]+\w/g, '@$1');
  return [...countable].length;
}
