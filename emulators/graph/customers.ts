import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../src/http/body.js';
import type { Logger } from '../../src/logger.js';
import { type CustomerItem, type CustomerSide, handleOf, type NewPost } from '../customer-side.js';
import { type ApiCall, closeServer, idSequence, listenOnLoopback, recordCall, sendBody } from '../http.js';

/**
 * The sandbox's Facebook: a Page whose visitors post and comment, a local Graph API that carebot's
 * real Facebook source answers through (GRAPH_API_URL), and the Page webhook Meta would send. A
 * customer's post or comment is delivered to carebot's `/sources/facebook/webhook` signed with the
 * app secret (`X-Hub-Signature-256`), as Meta signs it. carebot's answers arrive as
 * `POST /{id}/comments` with the Page token and its `appsecret_proof`; as on Facebook, threads are
 * two levels deep, so a comment under a reply is refused (code 100) and goes under its parent.
 */

export interface FacebookBrandPage {
  name: string;
  pageId: string;
  pageToken: string;
  appSecret: string;
  verifyToken: string;
}

interface FeedObject {
  id: string;
  kind: 'post' | 'comment';
  /** The visitor post a comment is under (itself for a post). */
  postId: string;
  /** For a reply: the top-level comment it is under. */
  parentCommentId: string | undefined;
  from: { id: string; name: string };
  message: string;
  createdAt: Date;
  /** A private reply (Messenger) to this object's author, not a comment. */
  privateTo?: string | undefined;
  status?: string;
}

export class SandboxFacebook extends EventEmitter implements CustomerSide {
  readonly platform = 'facebook' as const;
  readonly page: FacebookBrandPage;
  /** Whether carebot passed Meta's subscription check (verify token and challenge) at start. */
  webhookVerified = false;
  readonly objects: FeedObject[] = [];
  /** The Graph requests carebot made, newest last (the last 200), for tests and troubleshooting. */
  readonly calls: ApiCall[] = [];
  private readonly people = new Map<string, { id: string; name: string }>();
  private readonly nextNumber = idSequence(9_100_000_000_000_000n);
  private readonly nextPersonId = idSequence(7_000_000_000_000_000n);

  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly webhookUrl: () => string,
    private readonly logger: Logger,
  ) {
    super();
    this.page = {
      name: 'acme',
      pageId: '104000000000000777',
      pageToken: `EAA${randomBytes(24).toString('hex')}`,
      appSecret: randomBytes(16).toString('hex'),
      verifyToken: randomBytes(12).toString('hex'),
    };
  }

  static async start(webhookUrl: () => string, logger: Logger): Promise<SandboxFacebook> {
    let fb: SandboxFacebook | undefined;
    const { server, url } = await listenOnLoopback(
      (req, res) => (fb as SandboxFacebook).handle(req, res),
      (err, res) => {
        if (!res.headersSent) sendBody(res, 500, graphError(1, `sandbox Graph failed: ${String(err)}`));
      },
    );
    fb = new SandboxFacebook(url, server, webhookUrl, logger.child({ sandbox: 'facebook' }));
    return fb;
  }

  /** Where the fake API listens (127.0.0.1). */
  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Meta's subscription check: carebot must echo the challenge when the verify token matches. */
  async checkWebhook(): Promise<boolean> {
    const challenge = randomBytes(8).toString('hex');
    const query = new URLSearchParams({
      'hub.mode': 'subscribe',
      'hub.verify_token': this.page.verifyToken,
      'hub.challenge': challenge,
    });
    try {
      const res = await fetch(`${this.webhookUrl()}?${query}`, { signal: AbortSignal.timeout(10_000) });
      this.webhookVerified = res.ok && (await res.text()) === challenge;
    } catch {
      this.webhookVerified = false;
    }
    if (!this.webhookVerified) this.logger.warn('carebot did not pass the Facebook webhook verification');
    return this.webhookVerified;
  }

  /**
   * A new complaint is a visitor post on the Page. A follow-up is a comment on it: under the Page's
   * latest answer when there is one (replying to it, as a person would), else under the post.
   */
  async post(input: NewPost): Promise<CustomerItem> {
    const from = this.person(input);
    const root = input.conversationId
      ? this.objects.find((o) => o.kind === 'post' && o.id === input.conversationId)
      : undefined;
    let object: FeedObject;
    if (!root) {
      object = {
        id: `${this.page.pageId}_${this.nextNumber()}`,
        kind: 'post',
        postId: '',
        parentCommentId: undefined,
        from,
        message: input.text,
        createdAt: new Date(),
      };
      object.postId = object.id;
    } else {
      const answer = this.objects
        .filter(
          (o) =>
            o.postId === root.id && o.kind === 'comment' && !o.privateTo && o.from.id === this.page.pageId,
        )
        .at(-1);
      object = this.comment(
        root.id,
        answer ? (answer.parentCommentId ?? answer.id) : undefined,
        from,
        input.text,
      );
    }
    this.objects.push(object);
    this.emit('change');
    object.status = await this.deliver(object);
    this.emit('change');
    return this.itemOf(object);
  }

  items(): CustomerItem[] {
    return this.objects.map((o) => this.itemOf(o));
  }

  private itemOf(o: FeedObject): CustomerItem {
    const own = o.from.id === this.page.pageId;
    return {
      platform: 'facebook',
      id: o.id,
      conversationId: o.postId,
      parentId: o.kind === 'post' ? undefined : (o.parentCommentId ?? o.postId),
      kind: o.privateTo ? 'private' : own ? 'brand' : 'customer',
      author: { name: o.from.name },
      text: o.message,
      at: o.createdAt.toISOString(),
      url: o.kind === 'post' ? permalink(o.id) : `${permalink(o.postId)}?comment_id=${o.id}`,
      status: o.status,
    };
  }

  private person(input: NewPost): { id: string; name: string } {
    const key = handleOf(input);
    let person = this.people.get(key);
    if (!person) {
      person = { id: this.nextPersonId(), name: input.name };
      this.people.set(key, person);
    }
    person.name = input.name || person.name;
    return person;
  }

  private comment(
    postId: string,
    parentCommentId: string | undefined,
    from: { id: string; name: string },
    message: string,
  ): FeedObject {
    return {
      id: `${postId.split('_')[1]}_${this.nextNumber()}`,
      kind: 'comment',
      postId,
      parentCommentId,
      from,
      message,
      createdAt: new Date(),
    };
  }

  /** A Page `feed` change, signed with the app secret as Meta signs it. */
  private async deliver(o: FeedObject): Promise<string> {
    const value =
      o.kind === 'post'
        ? { item: 'status', verb: 'add', post_id: o.id, published: 1, permalink_url: permalink(o.id) }
        : {
            item: 'comment',
            verb: 'add',
            comment_id: o.id,
            post_id: o.postId,
            parent_id: o.parentCommentId ?? o.postId,
            post: { id: o.postId, permalink_url: permalink(o.postId), status_type: 'mobile_status_update' },
          };
    const body = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: this.page.pageId,
          time: Math.floor(Date.now() / 1000),
          changes: [
            {
              field: 'feed',
              value: {
                ...value,
                from: o.from,
                message: o.message,
                created_time: Math.floor(o.createdAt.getTime() / 1000),
              },
            },
          ],
        },
      ],
    });
    try {
      const res = await fetch(this.webhookUrl(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', this.page.appSecret).update(body).digest('hex')}`,
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const send = (status: number, body: unknown) => {
      recordCall(this.calls, { method: req.method ?? 'GET', path: url.pathname, status });
      sendBody(res, status, body);
    };
    const raw = await readBody(req, 1 << 20);
    const versioned = /^\/v\d+\.\d+(\/.*)$/.exec(url.pathname);
    if (!versioned?.[1]) {
      send(400, graphError(2500, 'Unknown path components: the Graph API path needs a version'));
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? url.searchParams.get('access_token') ?? undefined;
    if (token !== this.page.pageToken) {
      send(400, graphError(190, 'Invalid OAuth access token - Cannot parse access token', 'OAuthException'));
      return;
    }
    const proof = Buffer.from(url.searchParams.get('appsecret_proof') ?? '');
    const expected = Buffer.from(createHmac('sha256', this.page.appSecret).update(token).digest('hex'));
    if (proof.length !== expected.length || !timingSafeEqual(proof, expected)) {
      send(
        400,
        graphError(100, 'Invalid appsecret_proof provided in the API argument', 'GraphMethodException'),
      );
      return;
    }
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      body = Object.fromEntries(new URLSearchParams(raw));
    }
    const answer = this.route(req.method ?? 'GET', versioned[1], url.searchParams, body);
    send(answer.status, answer.body);
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { status: number; body: unknown } {
    const comments = /^\/([\d_]+)\/comments$/.exec(path);
    if (method === 'POST' && comments?.[1]) return this.answerWithComment(comments[1], body);
    if (method === 'POST' && path === `/${this.page.pageId}/messages`) return this.privateReply(body);
    const object = /^\/([\d_]+)$/.exec(path);
    if (method === 'GET' && object?.[1]) {
      const found = this.objects.find((o) => o.id === object[1] && !o.privateTo);
      if (!found) return doesNotExist(method, object[1]);
      const fields = (query.get('fields') ?? '').split(',');
      const parent = found.parentCommentId
        ? this.objects.find((o) => o.id === found.parentCommentId)
        : undefined;
      return {
        status: 200,
        body: {
          id: found.id,
          ...(fields.includes('message') ? { message: found.message } : {}),
          ...(fields.includes('parent') && parent
            ? { parent: { id: parent.id, message: parent.message, from: parent.from } }
            : {}),
        },
      };
    }
    return { status: 400, body: graphError(100, `Unsupported ${method.toLowerCase()} request: ${path}`) };
  }

  /** `POST /{post-or-comment-id}/comments` as the Page. */
  private answerWithComment(targetId: string, body: Record<string, unknown>) {
    const target = this.objects.find((o) => o.id === targetId && !o.privateTo);
    if (!target) return doesNotExist('POST', targetId);
    const message = typeof body.message === 'string' ? body.message : '';
    if (!message.trim())
      return { status: 400, body: graphError(100, '(#100) Missing message or attachment') };
    if (target.kind === 'comment' && target.parentCommentId) {
      return { status: 400, body: graphError(100, '(#100) A reply to a reply comment cannot have replies') };
    }
    const comment = this.comment(
      target.postId,
      target.kind === 'comment' ? target.id : undefined,
      { id: this.page.pageId, name: 'Acme' },
      message,
    );
    this.objects.push(comment);
    this.emit('change');
    // Meta sends the Page's own comments to the webhook too; carebot must skip its own words.
    setImmediate(() => {
      void this.deliver(comment);
    });
    return { status: 200, body: { id: comment.id } };
  }

  /** `POST /{page-id}/messages` with `recipient.comment_id` or `post_id`: one private reply. */
  private privateReply(body: Record<string, unknown>) {
    const recipient = (body.recipient ?? {}) as Record<string, unknown>;
    const text = ((body.message ?? {}) as { text?: unknown }).text;
    if (typeof text !== 'string' || !text.trim()) {
      return { status: 400, body: graphError(100, '(#100) The parameter message is required') };
    }
    const targetId = String(recipient.comment_id ?? recipient.post_id ?? '');
    const target = this.objects.find((o) => o.id === targetId && !o.privateTo);
    if (!target) {
      return {
        status: 400,
        body: graphError(100, '(#100) No matching user found', 'OAuthException', 2018001),
      };
    }
    const message: FeedObject = {
      ...this.comment(
        target.postId,
        target.kind === 'comment' ? target.id : undefined,
        {
          id: this.page.pageId,
          name: 'Acme',
        },
        text,
      ),
      privateTo: target.from.id,
    };
    this.objects.push(message);
    this.emit('change');
    return {
      status: 200,
      body: { recipient_id: target.from.id, message_id: `m_${randomBytes(12).toString('hex')}` },
    };
  }
}

const permalink = (postId: string) => `https://www.facebook.com/${postId.replace('_', '/posts/')}`;

function graphError(code: number, message: string, type = 'OAuthException', subcode?: number) {
  return {
    error: {
      message,
      type,
      code,
      ...(subcode !== undefined ? { error_subcode: subcode } : {}),
      fbtrace_id: `Asandbox${randomBytes(6).toString('hex')}`,
    },
  };
}

function doesNotExist(method: string, id: string) {
  return {
    status: 400,
    body: graphError(
      100,
      `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      'GraphMethodException',
      33,
    ),
  };
}
