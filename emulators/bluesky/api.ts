import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlueskyAccount } from '../../src/sources/bluesky/config.js';
import { graphemeLength } from '../../src/sources/bluesky/limits.js';
import {
  type Answer,
  closeServer,
  FailureQueue,
  isRecord,
  listenOnLoopback,
  readRequest,
  sendAnswer,
} from '../http.js';

/**
 * A local Bluesky (PDS and AppView in one) that answers XRPC under `/xrpc/<nsid>` as bsky.social
 * does: sessions (`createSession` with an app password, `refreshSession` with the refresh token,
 * `getSession`), an access token that expires (400 `ExpiredToken`, which @atproto/api answers by
 * refreshing), `listNotifications`, `searchPosts`, `getProfiles`, `getPosts`, `getRecord`,
 * `createRecord` and `resolveHandle`, with the lexicons' JSON shapes (the client validates them),
 * errors as `{error, message}`, `ratelimit-*` headers on every answer and 429s when they run out.
 * A record key already taken is refused with a 500, as the reference PDS does.
 */

export interface FakeBlueskyActor {
  did: string;
  handle: string;
  displayName?: string | undefined;
  followers: number;
}

export interface FakeBlueskyPost {
  uri: string;
  cid: string;
  rkey: string;
  authorDid: string;
  record: Record<string, unknown> & { text: string; createdAt: string };
  indexedAt: string;
}

export interface FakeBlueskyCall {
  method: string;
  nsid: string;
  query: Record<string, string>;
  body: unknown;
  bearer: string | undefined;
  status: number;
}

export interface FakeBlueskyFailure {
  status: number;
  headers?: Record<string, string>;
  /** Defaults to `{error, message}` for the status. */
  body?: unknown;
  times?: number;
  after?: number;
  method?: string;
  /** Do the request's work anyway and only answer with the failure: "it posted, then the answer was lost". */
  apply?: boolean;
}

/** A notification that is not a post (a like, a follow, a repost), for "others are ignored". */
export interface FakeBlueskyOtherNotification {
  reason: 'like' | 'repost' | 'follow';
  authorDid: string;
  subjectUri?: string;
  indexedAt: string;
}

export interface FakeBluesky {
  url: string;
  calls: FakeBlueskyCall[];
  callsTo(nsid: string): FakeBlueskyCall[];
  actors: Map<string, FakeBlueskyActor>;
  posts: FakeBlueskyPost[];
  /** Posts made through `createRecord`, in order. */
  sent: FakeBlueskyPost[];
  addActor(input: {
    handle: string;
    displayName?: string;
    followers?: number;
    did?: string;
  }): FakeBlueskyActor;
  /** A post by `author`: a reply when `replyTo` is given, a quote when `quote` is. Mentions come from `@handle`s in the text. */
  addPost(input: {
    author: FakeBlueskyActor | string;
    text: string;
    replyTo?: FakeBlueskyPost | string;
    quote?: FakeBlueskyPost | string;
    createdAt?: string | Date;
    indexedAt?: string | Date;
    rkey?: string;
  }): FakeBlueskyPost;
  addOtherNotification(
    input: Omit<FakeBlueskyOtherNotification, 'indexedAt'> & { indexedAt?: string | Date },
  ): void;
  failNext(nsidPrefix: string, failure: FakeBlueskyFailure): void;
  /** What the next answer counts down from, and the seconds until the window resets. */
  setRateLimit(limit: { remaining: number; resetIn: number }): void;
  /** The app password is deleted: sign-ins fail and every token stops working. */
  revokeAppPassword(identifier: string): void;
  /** Every access token issued so far expires now (refresh tokens still work). */
  expireAccessTokens(): void;
  /** Back to a fresh start for the next test: no posts, no failures, app passwords valid; sessions kept. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeBlueskyCredentials {
  handle: string;
  did: string;
  appPassword: string;
  displayName?: string;
  followers?: number;
}

export interface FakeBlueskyOptions {
  credentials: FakeBlueskyCredentials[];
  now?: () => Date;
  /** Access token lifetime in seconds (bsky.social: about 2 hours). */
  accessLifetime?: number;
  onSent?: (post: FakeBlueskyPost) => void;
}

/** A Bluesky account for tests; its app password is made up and must never show up in logs or errors. */
export function fakeBlueskyAccount(over: Partial<BlueskyAccount> = {}): BlueskyAccount {
  return {
    name: 'brand',
    identifier: 'acme.bsky.social',
    appPassword: 'abcd-efgh-ijkl-mnop',
    keywords: [],
    channel: 'C0BSKY0001',
    ...over,
  };
}

/** A DID:PLC-shaped id from a handle (24 base32 characters). */
export function didOf(handle: string): string {
  return `did:plc:${base32(createHash('sha256').update(handle).digest()).slice(0, 24)}`;
}

export function credentialsOf(
  account: BlueskyAccount,
  over: Partial<FakeBlueskyCredentials> = {},
): FakeBlueskyCredentials {
  const handle = account.identifier.startsWith('did:') ? 'acme.bsky.social' : account.identifier;
  return {
    handle,
    did: account.identifier.startsWith('did:') ? account.identifier : didOf(handle),
    appPassword: account.appPassword,
    ...over,
  };
}

const WINDOW_SECONDS = 300;
const WINDOW_REQUESTS = 3000;
const POST = 'app.bsky.feed.post';
const S32 = '234567abcdefghijklmnopqrstuvwxyz';

const errorBody = (status: number, error?: string, message?: string) => ({
  error:
    error ??
    {
      400: 'InvalidRequest',
      401: 'AuthenticationRequired',
      403: 'Forbidden',
      404: 'NotFound',
      429: 'RateLimitExceeded',
      500: 'InternalServerError',
      502: 'UpstreamFailure',
    }[status] ??
    'InternalServerError',
  message:
    message ??
    { 401: 'Authentication Required', 429: 'Rate Limit Exceeded', 500: 'Internal Server Error' }[status] ??
    'Error',
});

export async function startFakeBluesky(options: FakeBlueskyOptions): Promise<FakeBluesky> {
  const now = options.now ?? (() => new Date());
  const nowUtc = () => Math.floor(now().getTime() / 1000);
  const calls: FakeBlueskyCall[] = [];
  const actors = new Map<string, FakeBlueskyActor>();
  const posts: FakeBlueskyPost[] = [];
  const sent: FakeBlueskyPost[] = [];
  const others: FakeBlueskyOtherNotification[] = [];
  let failures = new FailureQueue<FakeBlueskyFailure>();
  const accounts = options.credentials.map((c) => ({ ...c, revoked: false }));
  const tokens = new Map<
    string,
    { did: string; kind: 'access' | 'refresh'; expiresAt: number; revoked: boolean }
  >();
  let limit = { remaining: WINDOW_REQUESTS, resetAt: 0 };
  let counter = 0;
  let lastMicros = 0;

  /** A TID for the current time, as a PDS keys new records. */
  const nextTid = () => {
    const micros = Math.max(now().getTime() * 1000, lastMicros + 1);
    lastMicros = micros;
    return tidOf((BigInt(micros) << 10n) | 7n);
  };
  const cidOf = (data: unknown) => {
    counter += 1;
    const digest = createHash('sha256')
      .update(`${JSON.stringify(data)}#${counter}`)
      .digest();
    // CIDv1, dag-cbor (0x71), sha2-256 (0x12, 32 bytes), base32 with the `b` prefix.
    return `b${base32(Buffer.concat([Buffer.from([0x01, 0x71, 0x12, 0x20]), digest]))}`;
  };

  const addActor: FakeBluesky['addActor'] = (input) => {
    const actor = {
      did: input.did ?? didOf(input.handle),
      handle: input.handle,
      displayName: input.displayName,
      followers: input.followers ?? 0,
    };
    actors.set(actor.did, actor);
    return actor;
  };
  for (const c of accounts)
    addActor({
      did: c.did,
      handle: c.handle,
      displayName: c.displayName ?? 'Acme Care',
      followers: c.followers ?? 48_000,
    });

  const actorOf = (idOrHandle: string) =>
    actors.get(idOrHandle) ??
    [...actors.values()].find((a) => a.handle.toLowerCase() === idOrHandle.toLowerCase().replace(/^@/, ''));
  const postOf = (uri: string) => posts.find((p) => p.uri === uri);
  const refOf = (p: FakeBlueskyPost) => ({ uri: p.uri, cid: p.cid });
  const time = (value: string | Date | undefined) => new Date(value ?? now()).toISOString();

  /** Mentions as facets, as the Bluesky app writes them: each `@handle` of a known actor. */
  const mentionFacets = (text: string) => {
    const facets: unknown[] = [];
    for (const match of text.matchAll(/(^|\s)@([a-z0-9.-]+[a-z0-9])/gi)) {
      const actor = actorOf(match[2] ?? '');
      if (!actor) continue;
      const start = Buffer.byteLength(text.slice(0, (match.index ?? 0) + (match[1]?.length ?? 0)));
      facets.push({
        $type: 'app.bsky.richtext.facet',
        index: { byteStart: start, byteEnd: start + Buffer.byteLength(`@${match[2]}`) },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did: actor.did }],
      });
    }
    return facets;
  };

  const addPost: FakeBluesky['addPost'] = (input) => {
    const author = typeof input.author === 'string' ? actorOf(input.author) : input.author;
    if (!author) throw new TypeError('fake bluesky: unknown author');
    const parent = typeof input.replyTo === 'string' ? postOf(input.replyTo) : input.replyTo;
    const quoted = typeof input.quote === 'string' ? postOf(input.quote) : input.quote;
    const root = parent
      ? ((parent.record.reply as { root?: { uri: string; cid: string } } | undefined)?.root ?? refOf(parent))
      : undefined;
    const facets = mentionFacets(input.text);
    const record = {
      $type: POST,
      text: input.text,
      createdAt: time(input.createdAt),
      langs: ['en'],
      ...(facets.length ? { facets } : {}),
      ...(parent && root ? { reply: { root, parent: refOf(parent) } } : {}),
      ...(quoted ? { embed: { $type: 'app.bsky.embed.record', record: refOf(quoted) } } : {}),
    };
    return store(author.did, input.rkey ?? nextTid(), record, time(input.indexedAt ?? input.createdAt));
  };

  const store = (did: string, rkey: string, record: FakeBlueskyPost['record'], indexedAt: string) => {
    const post: FakeBlueskyPost = {
      uri: `at://${did}/${POST}/${rkey}`,
      cid: cidOf(record),
      rkey,
      authorDid: did,
      record,
      indexedAt,
    };
    posts.push(post);
    return post;
  };

  const profileBasic = (did: string) => {
    const a = actors.get(did);
    return {
      did,
      handle: a?.handle ?? 'handle.invalid',
      ...(a?.displayName !== undefined ? { displayName: a.displayName } : {}),
    };
  };
  const postView = (p: FakeBlueskyPost) => ({
    uri: p.uri,
    cid: p.cid,
    author: profileBasic(p.authorDid),
    record: p.record,
    replyCount: posts.filter(
      (x) => (x.record.reply as { parent?: { uri: string } } | undefined)?.parent?.uri === p.uri,
    ).length,
    repostCount: 0,
    likeCount: 0,
    quoteCount: 0,
    indexedAt: p.indexedAt,
    labels: [],
  });

  /** Notifications of `did`, newest first: replies to its posts, mentions of it, quotes of its posts. */
  const notificationsOf = (did: string) => {
    const items: Array<Record<string, unknown> & { indexedAt: string }> = [];
    for (const p of posts) {
      if (p.authorDid === did) continue;
      const parentUri = (p.record.reply as { parent?: { uri: string } } | undefined)?.parent?.uri;
      const quoted = (p.record.embed as { record?: { uri: string } } | undefined)?.record?.uri;
      const mentioned = (
        (p.record.facets as Array<{ features: Array<{ did?: string }> }> | undefined) ?? []
      ).some((f) => f.features.some((x) => x.did === did));
      const reason =
        parentUri && postOf(parentUri)?.authorDid === did
          ? 'reply'
          : mentioned
            ? 'mention'
            : quoted && postOf(quoted)?.authorDid === did
              ? 'quote'
              : undefined;
      if (!reason) continue;
      items.push({
        uri: p.uri,
        cid: p.cid,
        author: profileBasic(p.authorDid),
        reason,
        ...(reason === 'reply' && parentUri
          ? { reasonSubject: parentUri }
          : reason === 'quote' && quoted
            ? { reasonSubject: quoted }
            : {}),
        record: p.record,
        isRead: false,
        indexedAt: p.indexedAt,
        labels: [],
      });
    }
    for (const o of others) {
      const subject = o.subjectUri ? postOf(o.subjectUri) : undefined;
      items.push({
        uri: `at://${o.authorDid}/app.bsky.feed.${o.reason === 'follow' ? 'like' : o.reason}/${tidOf((BigInt(Date.parse(o.indexedAt)) * 1000n) << 10n)}`,
        cid: cidOf(o),
        author: profileBasic(o.authorDid),
        reason: o.reason,
        ...(subject ? { reasonSubject: subject.uri } : {}),
        record: {
          $type: `app.bsky.feed.${o.reason === 'repost' ? 'repost' : 'like'}`,
          subject: subject ? refOf(subject) : undefined,
          createdAt: o.indexedAt,
        },
        isRead: false,
        indexedAt: o.indexedAt,
      });
    }
    return items.sort(
      (a, b) => Date.parse(b.indexedAt) - Date.parse(a.indexedAt) || (String(b.uri) < String(a.uri) ? -1 : 1),
    );
  };

  /** A page of `list` at the opaque cursor (an offset), and the cursor of the next. */
  const page = <T>(list: T[], query: Record<string, string>, max = 100) => {
    const size = Math.min(Math.max(Number(query.limit ?? 50) || 50, 1), max);
    const start = query.cursor ? Number(Buffer.from(query.cursor, 'base64url').toString()) || 0 : 0;
    const items = list.slice(start, start + size);
    const next =
      start + size < list.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
    return { items, ...(next ? { cursor: next } : {}) };
  };

  const session = (did: string) => {
    const account = accounts.find((a) => a.did === did);
    const access = `eyJ0eXAiOiJhdCtqd3QifQ.fake-access-${++counter}`;
    const refresh = `eyJ0eXAiOiJyZWZyZXNoK2p3dCJ9.fake-refresh-${++counter}`;
    tokens.set(access, {
      did,
      kind: 'access',
      expiresAt: now().getTime() + (options.accessLifetime ?? 7200) * 1000,
      revoked: false,
    });
    tokens.set(refresh, {
      did,
      kind: 'refresh',
      expiresAt: now().getTime() + 90 * 86_400_000,
      revoked: false,
    });
    return {
      accessJwt: access,
      refreshJwt: refresh,
      handle: account?.handle ?? 'handle.invalid',
      did,
      active: true,
    };
  };

  type Handler = (call: FakeBlueskyCall, did: string) => Answer;
  const fail = (status: number, error?: string, message?: string): Answer => ({
    status,
    body: errorBody(status, error, message),
  });

  const authed: Record<string, Handler> = {
    'com.atproto.server.getSession': (_c, did) => {
      const a = accounts.find((x) => x.did === did);
      return {
        status: 200,
        body: { handle: a?.handle, did, email: 'care@acme.example', emailConfirmed: true, active: true },
      };
    },
    'app.bsky.notification.listNotifications': (c, did) => {
      const { items, cursor } = page(notificationsOf(did), c.query);
      return {
        status: 200,
        body: {
          notifications: items,
          ...(cursor ? { cursor } : {}),
          priority: false,
          seenAt: new Date(0).toISOString(),
        },
      };
    },
    'app.bsky.feed.searchPosts': (c) => {
      const q = (c.query.q ?? '').toLowerCase();
      if (!q) return fail(400, 'InvalidRequest', 'Params must have the property "q"');
      const since = c.query.since ? Date.parse(c.query.since) : undefined;
      const hits = posts
        .filter(
          (p) =>
            p.record.text.toLowerCase().includes(q) &&
            (since === undefined || Date.parse(p.record.createdAt) >= since),
        )
        .sort((a, b) => Date.parse(b.indexedAt) - Date.parse(a.indexedAt));
      const { items, cursor } = page(hits, c.query);
      return {
        status: 200,
        body: { posts: items.map(postView), hitsTotal: hits.length, ...(cursor ? { cursor } : {}) },
      };
    },
    'app.bsky.actor.getProfiles': (c) => {
      const wanted = new URLSearchParams(c.query.__raw ?? '').getAll('actors');
      if (wanted.length > 25) return fail(400, 'InvalidRequest', 'Params must have at most 25 actors');
      const profiles = wanted.flatMap((id) => {
        const a = actorOf(id);
        return a
          ? [
              {
                ...profileBasic(a.did),
                followersCount: a.followers,
                followsCount: 10,
                postsCount: posts.filter((p) => p.authorDid === a.did).length,
              },
            ]
          : [];
      });
      return { status: 200, body: { profiles } };
    },
    'app.bsky.feed.getPosts': (c) => {
      const uris = new URLSearchParams(c.query.__raw ?? '').getAll('uris');
      if (uris.length > 25) return fail(400, 'InvalidRequest', 'Params must have at most 25 uris');
      return {
        status: 200,
        body: {
          posts: uris.flatMap((u) => {
            const p = postOf(u);
            return p ? [postView(p)] : [];
          }),
        },
      };
    },
    'com.atproto.repo.getRecord': (c) => {
      const actor = actorOf(c.query.repo ?? '');
      const p = actor && postOf(`at://${actor.did}/${c.query.collection}/${c.query.rkey}`);
      if (!p)
        return fail(
          400,
          'RecordNotFound',
          `Could not locate record: at://${c.query.repo}/${c.query.collection}/${c.query.rkey}`,
        );
      return { status: 200, body: { uri: p.uri, cid: p.cid, value: p.record } };
    },
    'com.atproto.repo.createRecord': (c, did) => {
      const body = isRecord(c.body) ? c.body : {};
      if (c.method !== 'POST')
        return fail(400, 'InvalidRequest', 'Incorrect HTTP method (GET) expected POST');
      if (body.repo !== did && actorOf(String(body.repo))?.did !== did)
        return fail(401, 'AuthenticationRequired', 'Authentication Required');
      if (body.collection !== POST) return fail(400, 'InvalidRequest', `fake bluesky: only ${POST} records`);
      const record = isRecord(body.record) ? body.record : {};
      if (typeof record.text !== 'string' || typeof record.createdAt !== 'string')
        return fail(
          400,
          'InvalidRequest',
          'Invalid app.bsky.feed.post record: Record must have the property "text"',
        );
      if (graphemeLength(record.text) > 300)
        return fail(
          400,
          'InvalidRequest',
          'Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes',
        );
      const rkey = typeof body.rkey === 'string' ? body.rkey : nextTid();
      if (!/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/.test(rkey))
        return fail(400, 'InvalidRequest', `Invalid record key for ${POST}: ${rkey}`);
      if (postOf(`at://${did}/${POST}/${rkey}`)) return fail(500);
      const post = store(did, rkey, record as FakeBlueskyPost['record'], now().toISOString());
      sent.push(post);
      options.onSent?.(post);
      return {
        status: 200,
        body: {
          uri: post.uri,
          cid: post.cid,
          commit: { cid: cidOf(post.cid), rev: nextTid() },
          validationStatus: 'valid',
        },
      };
    },
  };

  const route = (call: FakeBlueskyCall): Answer => {
    if (call.nsid === 'com.atproto.server.createSession') {
      const body = isRecord(call.body) ? call.body : {};
      const id = String(body.identifier ?? '').toLowerCase();
      const account = accounts.find((a) => a.handle.toLowerCase() === id || a.did === id);
      if (!account || account.revoked || body.password !== account.appPassword)
        return fail(401, 'AuthenticationRequired', 'Invalid identifier or password');
      return { status: 200, body: session(account.did) };
    }
    if (call.nsid === 'com.atproto.identity.resolveHandle') {
      const actor = actorOf(call.query.handle ?? '');
      return actor
        ? { status: 200, body: { did: actor.did } }
        : fail(400, 'InvalidRequest', 'Unable to resolve handle');
    }
    const token = call.bearer ? tokens.get(call.bearer) : undefined;
    if (!token) return fail(401, 'AuthenticationRequired', 'Authentication Required');
    if (token.revoked) return fail(400, 'InvalidToken', 'Token has been revoked');
    if (call.nsid === 'com.atproto.server.refreshSession') {
      if (token.kind !== 'refresh') return fail(400, 'InvalidToken', 'Invalid token type');
      if (token.expiresAt <= now().getTime()) return fail(400, 'ExpiredToken', 'Token has expired');
      token.revoked = true;
      return { status: 200, body: session(token.did) };
    }
    if (token.kind !== 'access') return fail(400, 'InvalidToken', 'Invalid token type');
    if (token.expiresAt <= now().getTime()) return fail(400, 'ExpiredToken', 'Token has expired');
    const handler = authed[call.nsid];
    return handler ? handler(call, token.did) : fail(501, 'MethodNotImplemented', 'Method Not Implemented');
  };

  const rateLimited = (answer: Answer): Answer => {
    if (nowUtc() >= limit.resetAt) limit = { remaining: WINDOW_REQUESTS, resetAt: nowUtc() + WINDOW_SECONDS };
    const headers = (remaining: number) => ({
      'ratelimit-limit': String(WINDOW_REQUESTS),
      'ratelimit-remaining': String(remaining),
      'ratelimit-reset': String(limit.resetAt),
      'ratelimit-policy': `${WINDOW_REQUESTS};w=${WINDOW_SECONDS}`,
    });
    if (limit.remaining < 1) return { status: 429, headers: headers(0), body: errorBody(429) };
    limit.remaining -= 1;
    return { ...answer, headers: { ...headers(limit.remaining), ...answer.headers } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { url, body } = await readRequest(req, 'raw');
    const nsid = url.pathname.replace(/^\/xrpc\//, '');
    const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const call: FakeBlueskyCall = {
      method: req.method ?? 'GET',
      nsid,
      query: { ...Object.fromEntries(url.searchParams), __raw: url.search.slice(1) },
      body,
      bearer,
      status: 0,
    };
    const failure = failures.take(call.method, nsid);
    let answer: Answer;
    if (!url.pathname.startsWith('/xrpc/')) answer = fail(404, 'NotFound', 'Not Found');
    else if (failure && !failure.apply) answer = failureAnswer(failure);
    else {
      answer = rateLimited(route(call));
      if (failure) answer = failureAnswer(failure);
    }
    call.status = answer.status;
    calls.push(call);
    if (calls.length > 500) calls.splice(0, calls.length - 500);
    sendAnswer(res, answer);
  };

  const failureAnswer = (failure: FakeBlueskyFailure): Answer => ({
    status: failure.status,
    headers:
      failure.status === 429
        ? {
            'ratelimit-limit': String(WINDOW_REQUESTS),
            'ratelimit-remaining': '0',
            'ratelimit-reset': String(nowUtc() + 60),
            ...failure.headers,
          }
        : (failure.headers ?? {}),
    body: failure.body ?? errorBody(failure.status),
  });

  const { server, url } = await listenOnLoopback(handle, (error, res) => {
    if (!res.headersSent)
      sendAnswer(res, {
        status: 500,
        body: errorBody(500, 'InternalServerError', `fake bluesky crashed: ${String(error)}`),
      });
  });

  return {
    url,
    calls,
    callsTo: (nsid) => calls.filter((c) => c.nsid === nsid),
    actors,
    posts,
    sent,
    addActor,
    addPost,
    addOtherNotification: (input) => {
      others.push({ ...input, indexedAt: time(input.indexedAt) });
    },
    failNext: (prefix, failure) => failures.add(prefix, failure),
    setRateLimit: ({ remaining, resetIn }) => {
      limit = { remaining, resetAt: nowUtc() + resetIn };
    },
    revokeAppPassword: (identifier) => {
      const account = accounts.find((a) => a.handle === identifier || a.did === identifier);
      if (!account) return;
      account.revoked = true;
      for (const t of tokens.values()) if (t.did === account.did) t.revoked = true;
    },
    expireAccessTokens: () => {
      for (const t of tokens.values()) if (t.kind === 'access') t.expiresAt = now().getTime();
    },
    reset: () => {
      for (const list of [posts, sent, others, calls] as unknown[][]) list.length = 0;
      failures = new FailureQueue<FakeBlueskyFailure>();
      limit = { remaining: WINDOW_REQUESTS, resetAt: 0 };
      for (const a of accounts) a.revoked = false;
    },
    close: () => closeServer(server),
  };
}

/** RFC 4648 base32, lower case, no padding (CIDs and DID:PLC ids). */
function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function tidOf(value: bigint): string {
  let out = '';
  let rest = value & 0x7fff_ffff_ffff_ffffn;
  for (let i = 0; i < 13; i++) {
    out = S32[Number(rest & 31n)] + out;
    rest >>= 5n;
  }
  return out;
}
