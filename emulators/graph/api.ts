import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FacebookPage } from '../../src/sources/facebook/config.js';
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
 * A local Graph API that answers like Meta's: versioned paths (`/v21.0/…`), the Page token as a
 * Bearer header or `access_token` parameter with its `appsecret_proof` checked, the Page feed with
 * comments (`filter`, `order`, `limit` modifiers), comment replies, Messenger sends and private
 * replies, Instagram replies and mentions, and errors in Graph's shape
 * (`{error: {message, type, code, error_subcode, fbtrace_id}}`). It also reads back what was sent,
 * as a client does to find out whether a request whose answer it lost went through:
 * `GET /{post-or-comment-id}/comments`, `GET /{page-id}/conversations?platform=messenger&user_id=…`
 * with `messages` expanded, and `GET /{ig-comment-id}/replies`.
 * Tests seed it and inject failures and delays; the sandbox's Facebook customers (customers.ts) run on
 * it too.
 */

export interface FakeGraphPerson {
  id: string;
  name?: string;
}

export interface FakePost {
  id: string;
  pageId: string;
  from: FakeGraphPerson;
  message: string;
  createdTime: string;
  permalinkUrl: string;
}

export interface FakeComment {
  id: string;
  postId: string;
  /** The comment it answers, for a reply; Facebook threads are two levels deep. */
  parentId: string | undefined;
  from: FakeGraphPerson;
  message: string;
  createdTime: string;
}

export interface FakeInstagramComment {
  id: string;
  mediaId: string;
  username: string;
  text: string;
  parentId?: string | undefined;
  /** The author's Instagram id (`from.id`); the account's own replies carry the account's id. */
  fromId?: string | undefined;
}

export interface FakeGraphCall {
  method: string;
  /** `v21.0`, or undefined for an unversioned path. */
  version: string | undefined;
  /** The path after the version, e.g. `/123/comments`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The access token sent (header or parameter). */
  token: string | undefined;
  /** How it was sent. */
  tokenIn: 'header' | 'query' | 'body' | undefined;
  /** Whether `appsecret_proof` matched the token and its app's secret. */
  proofValid: boolean;
  status: number;
}

export interface SentOnGraph {
  kind: 'comment' | 'instagram_reply' | 'message' | 'private_reply' | 'mention_reply';
  id: string;
  text: string;
  /** The comment or post answered, the Messenger recipient, or the mentioned media. */
  target: string;
  /** The comment a mention reply answers. */
  commentId?: string | undefined;
  /** A Messenger message's quick replies (`message.quick_replies`), as the Page offered them. */
  quickReplies?: Array<{ title: string; payload: string }> | undefined;
  token: string | undefined;
}

export interface FakeGraphError {
  code: number;
  error_subcode?: number;
  message?: string;
  type?: string;
  is_transient?: boolean;
}

export interface FakeGraphFailure {
  /** HTTP status, default 400 as Graph answers most errors. */
  status?: number;
  error: FakeGraphError;
  headers?: Record<string, string>;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Only requests with this method (default any). */
  method?: 'GET' | 'POST';
}

/** A slow Graph: the request is carried out at once, its answer sent only after `ms`. */
export interface FakeGraphDelay {
  ms: number;
  /** Only requests with this method (default any). */
  method?: 'GET' | 'POST';
  /** How many matching requests are slow (default every one). */
  times?: number;
}

export interface FakeGraph {
  /** Base URL without a trailing slash, as GRAPH_API_URL. */
  url: string;
  calls: FakeGraphCall[];
  callsTo(method: string, pathPrefix: string): FakeGraphCall[];
  posts: FakePost[];
  comments: FakeComment[];
  instagramComments: FakeInstagramComment[];
  /** What was sent through the API, in order. */
  sent: SentOnGraph[];
  addPost(input: {
    pageId: string;
    from: FakeGraphPerson;
    message: string;
    id?: string;
    createdTime?: Date | string;
  }): FakePost;
  addComment(input: {
    postId: string;
    from: FakeGraphPerson;
    message: string;
    parentId?: string;
    id?: string;
    createdTime?: Date | string;
  }): FakeComment;
  addInstagramComment(input: FakeInstagramComment): FakeInstagramComment;
  /** What `mentioned_media.media_id(<id>)` answers with: a caption that @mentions the account. */
  addMentionedMedia(input: {
    id: string;
    caption: string;
    username: string;
    permalink: string;
    timestamp?: Date | string;
  }): void;
  /**
   * A person who writes to the Page on Messenger, as the User Profile API shows them
   * (`GET /<PSID>?fields=first_name,last_name,profile_pic` with the Page token).
   */
  addMessengerUser(input: { psid: string; firstName: string; lastName?: string; profilePic?: string }): void;
  /** The next request(s) whose versionless path starts with `pathPrefix` get this Graph error. */
  failNext(pathPrefix: string, failure: FakeGraphFailure): void;
  /**
   * Requests whose versionless path starts with `pathPrefix` are answered late (after the work is
   * done): a client that gives up first does not know that the comment or message exists.
   */
  slowDown(pathPrefix: string, delay: FakeGraphDelay): void;
  close(): Promise<void>;
}

/** A Page for tests; its secrets are made up and must never show up in logs or errors. */
export function fakeFacebookPage(over: Partial<FacebookPage> = {}): FacebookPage {
  return {
    name: 'brand',
    pageId: '104000000000000001',
    pageToken: 'EAAtest-page-token-of-brand',
    appSecret: 'app-secret-of-brand',
    verifyToken: 'verify-token-of-brand',
    instagramAccountId: '17841400000000001',
    channel: 'CFBCARE',
    ...over,
  };
}

/** `X-Hub-Signature-256` as Meta computes it: `sha256=` + hex HMAC-SHA256 of the raw body with the app secret. */
export function signFacebookBody(appSecret: string, raw: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}

/** A signed webhook delivery, ready for fetch. */
export function signedDelivery(
  appSecret: string,
  payload: unknown,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signFacebookBody(appSecret, body) },
  };
}

/** `object: page` with one entry: feed changes (`value`s of the `feed` field) and Messenger events. */
export function pageDelivery(
  pageId: string,
  content: { feed?: unknown[]; messaging?: unknown[]; time?: number },
): Record<string, unknown> {
  return {
    object: 'page',
    entry: [
      {
        id: pageId,
        time: content.time ?? 1_795_428_000,
        ...(content.feed ? { changes: content.feed.map((value) => ({ field: 'feed', value })) } : {}),
        ...(content.messaging ? { messaging: content.messaging } : {}),
      },
    ],
  };
}

/**
 * A customer's tap on a quick reply, as Messenger delivers it: a text message whose text is the
 * button's title, with `quick_reply.payload` the Page set.
 */
export function quickReplyEvent(
  pageId: string,
  input: { psid: string; mid: string; title: string; payload: string; timestamp?: number },
): Record<string, unknown> {
  return {
    sender: { id: input.psid },
    recipient: { id: pageId },
    timestamp: input.timestamp ?? 1_795_428_000_000,
    message: { mid: input.mid, text: input.title, quick_reply: { payload: input.payload } },
  };
}

/** `object: instagram` with one entry of changes (`comments`, `mentions`). */
export function instagramDelivery(
  igAccountId: string,
  changes: Array<{ field: string; value: unknown }>,
  time = 1_795_428_000,
): Record<string, unknown> {
  return { object: 'instagram', entry: [{ id: igAccountId, time, changes }] };
}

const graphTime = (at: Date | string) => new Date(at).toISOString().replace(/\.\d{3}Z$/, '+0000');

const errorAnswer = (status: number, error: FakeGraphError): Answer => ({
  status,
  body: {
    error: {
      message: error.message ?? `(#${error.code}) error`,
      type: error.type ?? 'OAuthException',
      code: error.code,
      ...(error.error_subcode !== undefined ? { error_subcode: error.error_subcode } : {}),
      ...(error.is_transient !== undefined ? { is_transient: error.is_transient } : {}),
      fbtrace_id: 'AfakeTraceId123',
    },
  },
});

const doesNotExist = (method: string, id: string) =>
  errorAnswer(400, {
    code: 100,
    error_subcode: 33,
    type: 'GraphMethodException',
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  });

export interface FakeGraphOptions {
  pages: FacebookPage[];
  now?: () => Date;
  /** Keep only the newest this many calls (a long-running sandbox); default all. */
  keepCalls?: number;
  /** Told of each comment, message or reply sent through the API, once it is stored. */
  onSent?: (sent: SentOnGraph) => void;
}

export async function startFakeGraph(options: FakeGraphOptions): Promise<FakeGraph> {
  const now = options.now ?? (() => new Date());
  const calls: FakeGraphCall[] = [];
  const posts: FakePost[] = [];
  const comments: FakeComment[] = [];
  const instagramComments: FakeInstagramComment[] = [];
  const mentionedMedia = new Map<
    string,
    { caption: string; username: string; permalink: string; timestamp: string }
  >();
  const messengerUsers = new Map<string, { first_name: string; last_name?: string; profile_pic?: string }>();
  const sent: SentOnGraph[] = [];
  const privatelyAnswered = new Set<string>();
  const failures = new FailureQueue<FakeGraphFailure>();
  const delays: Array<FakeGraphDelay & { prefix: string; remaining: number }> = [];
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0n;
  // Past 2^53, so a Number() anywhere would show.
  const nextNumber = () => {
    counter += 1n;
    return String(9_007_199_254_740_993n + counter * 7n);
  };

  const record = (item: SentOnGraph) => {
    sent.push(item);
    options.onSent?.(item);
  };

  const addPost: FakeGraph['addPost'] = (input) => {
    const id = input.id ?? `${input.pageId}_${nextNumber()}`;
    const post: FakePost = {
      id,
      pageId: input.pageId,
      from: input.from,
      message: input.message,
      createdTime: graphTime(input.createdTime ?? now()),
      permalinkUrl: `https://www.facebook.com/${id.replace('_', '/posts/')}`,
    };
    posts.push(post);
    return post;
  };
  const addComment: FakeGraph['addComment'] = (input) => {
    const postNumber = input.postId.split('_')[1] ?? input.postId;
    const comment: FakeComment = {
      id: input.id ?? `${postNumber}_${nextNumber()}`,
      postId: input.postId,
      parentId: input.parentId,
      from: input.from,
      message: input.message,
      createdTime: graphTime(input.createdTime ?? now()),
    };
    comments.push(comment);
    return comment;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { url, body } = await readRequest(req, 'form');
    const versioned = /^\/(v\d+\.\d+)(\/.*)$/.exec(url.pathname);
    const method = req.method ?? 'GET';
    const call: FakeGraphCall = {
      method,
      version: versioned?.[1],
      path: versioned?.[2] ?? url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      token: undefined,
      tokenIn: undefined,
      proofValid: false,
      status: 0,
    };
    const auth = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const bodyToken = isRecord(body) && typeof body.access_token === 'string' ? body.access_token : undefined;
    if (auth) [call.token, call.tokenIn] = [auth, 'header'];
    else if (call.query.access_token) [call.token, call.tokenIn] = [call.query.access_token, 'query'];
    else if (bodyToken) [call.token, call.tokenIn] = [bodyToken, 'body'];
    const page = options.pages.find((p) => p.pageToken === call.token);
    const proof = call.query.appsecret_proof ?? (isRecord(body) ? body.appsecret_proof : undefined);
    call.proofValid =
      page !== undefined &&
      proof === createHmac('sha256', page.appSecret).update(page.pageToken).digest('hex');

    let answer: Answer;
    if (!page) {
      answer = errorAnswer(400, {
        code: 190,
        message: 'Invalid OAuth access token - Cannot parse access token',
      });
    } else if (!call.proofValid) {
      answer = errorAnswer(400, {
        code: 100,
        type: 'GraphMethodException',
        message: 'Invalid appsecret_proof provided in the API argument',
      });
    } else {
      answer = injected(method, call.path) ?? route(call, page);
    }
    call.status = answer.status;
    calls.push(call);
    if (options.keepCalls !== undefined && calls.length > options.keepCalls) {
      calls.splice(0, calls.length - options.keepCalls);
    }
    const delay = delays.find((d) => call.path.startsWith(d.prefix) && (!d.method || d.method === method));
    if (delay) {
      delay.remaining -= 1;
      if (delay.remaining <= 0) delays.splice(delays.indexOf(delay), 1);
      const timer = setTimeout(() => {
        timers.delete(timer);
        // The client may have given up and closed the connection: the work is done all the same.
        if (!res.destroyed) sendAnswer(res, answer);
      }, delay.ms);
      timers.add(timer);
      return;
    }
    sendAnswer(res, answer);
  };

  const injected = (method: string, path: string): Answer | undefined => {
    const failure = failures.take(method, path);
    if (!failure) return undefined;
    const answer = errorAnswer(failure.status ?? 400, failure.error);
    return failure.headers ? { ...answer, headers: failure.headers } : answer;
  };

  const route = (call: FakeGraphCall, page: FacebookPage): Answer => {
    const parts = call.path.split('/').filter(Boolean);
    const [id, edge] = parts;
    if (!id || parts.length > 2) return errorAnswer(400, { code: 2500, message: 'Unknown path components' });
    const fields = call.query.fields ?? '';
    // A Page token's own node is the Page.
    if (call.method === 'GET' && id === 'me' && !edge)
      return { status: 200, body: { id: page.pageId, name: page.name } };
    if (call.method === 'GET' && edge === 'feed') return feed(call, id);
    if (call.method === 'GET' && edge === 'comments') return commentsOf(call, id);
    if (call.method === 'GET' && edge === 'replies') return repliesOf(id);
    if (call.method === 'GET' && edge === 'conversations' && id === page.pageId)
      return conversations(call, page);
    if (call.method === 'GET' && !edge && id === page.instagramAccountId) return mentioned(id, fields);
    if (call.method === 'GET' && !edge && messengerUsers.has(id)) {
      // Only the fields asked for, as Graph answers.
      const person = messengerUsers.get(id) as Record<string, string | undefined>;
      const asked = fields.split(',').filter((f) => person[f] !== undefined);
      return { status: 200, body: { id, ...Object.fromEntries(asked.map((f) => [f, person[f]])) } };
    }
    if (call.method === 'GET' && !edge && instagramComments.some((c) => c.id === id)) {
      const c = instagramComments.find((x) => x.id === id) as FakeInstagramComment;
      return {
        status: 200,
        body: {
          id: c.id,
          ...(fields.split(',').includes('parent_id') && c.parentId ? { parent_id: c.parentId } : {}),
        },
      };
    }
    if (call.method === 'GET' && !edge) {
      const comment = comments.find((c) => c.id === id);
      if (!comment) return doesNotExist('GET', id);
      const parent = comment.parentId ? comments.find((c) => c.id === comment.parentId) : undefined;
      return {
        status: 200,
        body: {
          id: comment.id,
          ...(fields.split(',').includes('parent') && parent ? { parent: renderComment(parent) } : {}),
        },
      };
    }
    const b = isRecord(call.body) ? call.body : {};
    const text = typeof b.message === 'string' ? b.message : '';
    if (call.method === 'POST' && edge === 'comments') {
      const post = posts.find((p) => p.id === id);
      const comment = comments.find((c) => c.id === id);
      if (!post && !comment) return doesNotExist('POST', id);
      if (comment?.parentId) {
        return errorAnswer(400, { code: 100, message: '(#100) Replies to reply comments are not supported' });
      }
      if (!text) return errorAnswer(400, { code: 100, message: '(#100) Missing message or attachment' });
      const created = addComment({
        postId: post?.id ?? (comment as FakeComment).postId,
        parentId: comment?.id,
        from: { id: page.pageId, name: page.name },
        message: text,
      });
      record({ kind: 'comment', id: created.id, text, target: id, token: call.token });
      return { status: 200, body: { id: created.id } };
    }
    if (call.method === 'POST' && edge === 'replies') {
      const comment = instagramComments.find((c) => c.id === id);
      if (!comment) return doesNotExist('POST', id);
      if (!text) return errorAnswer(400, { code: 100, message: '(#100) The parameter message is required' });
      const reply = {
        id: nextNumber(),
        mediaId: comment.mediaId,
        username: 'brand',
        text,
        parentId: comment.parentId ?? comment.id,
        fromId: page.instagramAccountId,
      };
      instagramComments.push(reply);
      record({ kind: 'instagram_reply', id: reply.id, text, target: id, token: call.token });
      return { status: 200, body: { id: reply.id } };
    }
    if (call.method === 'POST' && edge === 'mentions' && id === page.instagramAccountId) {
      const mediaId = typeof b.media_id === 'string' ? b.media_id : undefined;
      if (!mediaId || !text)
        return errorAnswer(400, { code: 100, message: '(#100) media_id and message are required' });
      const commentId = typeof b.comment_id === 'string' ? b.comment_id : undefined;
      const replyId = nextNumber();
      record({ kind: 'mention_reply', id: replyId, text, target: mediaId, commentId, token: call.token });
      return { status: 200, body: { id: replyId } };
    }
    if (call.method === 'POST' && edge === 'messages' && id === page.pageId) return message(call, b);
    return errorAnswer(400, {
      code: 100,
      message: `(#100) fake Graph: no route for ${call.method} ${call.path}`,
    });
  };

  const feed = (call: FakeGraphCall, pageId: string): Answer => {
    const limit = Number(call.query.limit ?? 25);
    const offset = call.query.after ? Number(Buffer.from(call.query.after, 'base64url').toString()) : 0;
    const all = posts
      .filter((p) => p.pageId === pageId)
      .sort((a, b) => b.createdTime.localeCompare(a.createdTime));
    const slice = all.slice(offset, offset + limit);
    const fields = call.query.fields ?? '';
    const commentSpec = /comments((?:\.\w+\([^)]*\))*)(\{[^}]*\})?/.exec(fields);
    const modifier = (name: string) =>
      new RegExp(`\\.${name}\\(([^)]*)\\)`).exec(commentSpec?.[1] ?? '')?.[1];
    const data = slice.map((post) => {
      const out: Record<string, unknown> = {
        id: post.id,
        message: post.message,
        from: post.from,
        created_time: post.createdTime,
        permalink_url: post.permalinkUrl,
      };
      if (commentSpec) {
        let list = comments.filter(
          (c) => c.postId === post.id && (modifier('filter') === 'stream' || !c.parentId),
        );
        list.sort((a, b) => a.createdTime.localeCompare(b.createdTime));
        if (modifier('order') === 'reverse_chronological') list.reverse();
        list = list.slice(0, Number(modifier('limit') ?? 25));
        out.comments = { data: list.map(renderComment) };
      }
      return out;
    });
    const more = offset + limit < all.length;
    const next = new URL(`${serverUrl}/v21.0/${pageId}/feed`);
    next.searchParams.set('access_token', call.token ?? '');
    next.searchParams.set('fields', fields);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('after', Buffer.from(String(offset + limit)).toString('base64url'));
    return { status: 200, body: { data, paging: more ? { next: next.toString() } : {} } };
  };

  /**
   * `GET /{id}/comments`: a post's top-level comments (`filter=stream`: all of them), or a
   * comment's replies; oldest first unless `order=reverse_chronological`.
   */
  const commentsOf = (call: FakeGraphCall, id: string): Answer => {
    const post = posts.find((p) => p.id === id);
    const comment = comments.find((c) => c.id === id);
    if (!post && !comment) return doesNotExist('GET', id);
    let list = post
      ? comments.filter((c) => c.postId === id && (call.query.filter === 'stream' || !c.parentId))
      : comments.filter((c) => c.parentId === id);
    list = [...list].sort((a, b) => a.createdTime.localeCompare(b.createdTime));
    if (call.query.order === 'reverse_chronological') list.reverse();
    const limit = Number(call.query.limit ?? 25);
    return { status: 200, body: { data: list.slice(0, limit).map(renderComment), paging: {} } };
  };

  /** `GET /{ig-comment-id}/replies`: the replies Instagram filed under a top-level comment. */
  const repliesOf = (id: string): Answer => {
    if (!instagramComments.some((c) => c.id === id)) return doesNotExist('GET', id);
    const data = instagramComments
      .filter((c) => c.parentId === id)
      .map((c) => ({
        id: c.id,
        text: c.text,
        username: c.username,
        ...(c.fromId ? { from: { id: c.fromId, username: c.username } } : {}),
        parent_id: id,
        timestamp: graphTime(now()),
      }));
    return { status: 200, body: { data } };
  };

  /**
   * `GET /{page-id}/conversations?platform=messenger&user_id={psid}` with `messages` expanded: the
   * Page's Messenger conversation with that person, its messages newest first.
   */
  const conversations = (call: FakeGraphCall, page: FacebookPage): Answer => {
    const psid = call.query.user_id;
    const fields = call.query.fields ?? '';
    const messages = sent.filter(
      (m) => m.kind === 'message' && m.target === psid && m.token === page.pageToken,
    );
    if (!psid || messages.length === 0) return { status: 200, body: { data: [] } };
    const limit = Number(/messages\.limit\((\d+)\)/.exec(fields)?.[1] ?? 25);
    const data = [
      {
        id: `t_${psid}`,
        ...(fields.includes('messages')
          ? {
              messages: {
                data: [...messages]
                  .reverse()
                  .slice(0, limit)
                  .map((m) => ({
                    id: m.id,
                    message: m.text,
                    from: { id: page.pageId, name: page.name, email: `${page.pageId}@facebook.com` },
                    created_time: graphTime(now()),
                  })),
              },
            }
          : {}),
      },
    ];
    return { status: 200, body: { data } };
  };

  const renderComment = (c: FakeComment) => ({
    id: c.id,
    message: c.message,
    from: c.from,
    created_time: c.createdTime,
    ...(c.parentId ? { parent: { id: c.parentId } } : {}),
    permalink_url: `https://www.facebook.com/${c.postId.replace('_', '/posts/')}?comment_id=${c.id}`,
  });

  const mentioned = (igId: string, fields: string): Answer => {
    const comment = /mentioned_comment\.comment_id\(([^)]+)\)/.exec(fields)?.[1];
    if (comment) {
      const c = instagramComments.find((x) => x.id === comment);
      if (!c) return doesNotExist('GET', comment);
      return {
        status: 200,
        body: {
          id: igId,
          mentioned_comment: {
            id: c.id,
            text: c.text,
            ...(fields.includes('username') ? { username: c.username } : {}),
            timestamp: graphTime(now()),
            media: { id: c.mediaId, permalink: `https://www.instagram.com/p/${c.mediaId}/` },
          },
        },
      };
    }
    const media = /mentioned_media\.media_id\(([^)]+)\)/.exec(fields)?.[1];
    // The account itself, as the Page's token reads it.
    if (!media && !fields.includes('mentioned_'))
      return { status: 200, body: { id: igId, username: 'brand' } };
    const m = media ? mentionedMedia.get(media) : undefined;
    if (!media || !m) return doesNotExist('GET', media ?? igId);
    return { status: 200, body: { id: igId, mentioned_media: { id: media, ...m } } };
  };

  const message = (call: FakeGraphCall, b: Record<string, unknown>): Answer => {
    const recipient = isRecord(b.recipient) ? b.recipient : {};
    const text = isRecord(b.message) && typeof b.message.text === 'string' ? b.message.text : '';
    if (!text) return errorAnswer(400, { code: 100, message: '(#100) The parameter message is required' });
    const mid = `m_${nextNumber()}`;
    if (typeof recipient.id === 'string') {
      if (b.messaging_type === undefined) {
        return errorAnswer(400, { code: 100, message: '(#100) Param messaging_type is required' });
      }
      const quick = isRecord(b.message) ? b.message.quick_replies : undefined;
      let quickReplies: SentOnGraph['quickReplies'];
      if (quick !== undefined) {
        // The Send API's rules: at most 13, each `content_type: text` with a title and a payload.
        const valid =
          Array.isArray(quick) &&
          quick.length > 0 &&
          quick.length <= 13 &&
          quick.every(
            (q) =>
              isRecord(q) &&
              q.content_type === 'text' &&
              typeof q.title === 'string' &&
              q.title.length > 0 &&
              (typeof q.payload === 'string' || typeof q.payload === 'number'),
          );
        if (!valid) return errorAnswer(400, { code: 100, message: '(#100) Invalid parameter quick_replies' });
        quickReplies = (quick as Array<{ title: string; payload: string | number }>).map((q) => ({
          title: q.title.slice(0, 20),
          payload: String(q.payload),
        }));
      }
      record({ kind: 'message', id: mid, text, target: recipient.id, token: call.token, quickReplies });
      return { status: 200, body: { recipient_id: recipient.id, message_id: mid } };
    }
    const objectId =
      typeof recipient.comment_id === 'string'
        ? recipient.comment_id
        : typeof recipient.post_id === 'string'
          ? recipient.post_id
          : undefined;
    if (!objectId)
      return errorAnswer(400, { code: 100, message: '(#100) The parameter recipient is required' });
    const author =
      comments.find((c) => c.id === objectId)?.from.id ??
      posts.find((p) => p.id === objectId)?.from.id ??
      instagramComments.find((c) => c.id === objectId)?.username;
    if (!author) return doesNotExist('POST', objectId);
    if (privatelyAnswered.has(objectId)) {
      return errorAnswer(400, { code: 10900, message: '(#10900) Activity already replied to' });
    }
    privatelyAnswered.add(objectId);
    record({ kind: 'private_reply', id: mid, text, target: objectId, token: call.token });
    return { status: 200, body: { recipient_id: author, message_id: mid } };
  };

  const { server, url: serverUrl } = await listenOnLoopback(
    (req, res) => handle(req, res),
    (error, res) => {
      if (!res.headersSent)
        sendAnswer(res, errorAnswer(500, { code: 1, message: `fake Graph crashed: ${String(error)}` }));
    },
  );

  return {
    url: serverUrl,
    calls,
    callsTo: (method, pathPrefix) =>
      calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix)),
    posts,
    comments,
    instagramComments,
    sent,
    addPost,
    addComment,
    addInstagramComment: (input) => {
      instagramComments.push(input);
      return input;
    },
    addMessengerUser: (input) => {
      messengerUsers.set(input.psid, {
        first_name: input.firstName,
        ...(input.lastName ? { last_name: input.lastName } : {}),
        ...(input.profilePic ? { profile_pic: input.profilePic } : {}),
      });
    },
    addMentionedMedia: (input) => {
      mentionedMedia.set(input.id, {
        caption: input.caption,
        username: input.username,
        permalink: input.permalink,
        timestamp: graphTime(input.timestamp ?? now()),
      });
    },
    failNext: (prefix, failure) => {
      failures.add(prefix, failure);
    },
    slowDown: (prefix, delay) => {
      delays.push({ ...delay, prefix, remaining: delay.times ?? Number.POSITIVE_INFINITY });
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await closeServer(server);
    },
  };
}
