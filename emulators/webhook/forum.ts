import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { signWebhook, verifyWebhook } from '../../src/sources/webhook/verify.js';
import { type CustomerItem, type CustomerSide, handleOf, type NewPost } from '../customer-side.js';

/**
 * The sandbox's customer side: a forum whose posts reach carebot through the generic webhook
 * (Standard Webhooks, signed with the source's secret) and which is the source's reply_url, so the
 * replies carebot delivers land here, on the conversation they answer.
 */

export interface CustomerPost {
  id: string;
  conversationId: string;
  author: { id: string; name: string; handle: string; followers?: number };
  text: string;
  createdAt: string;
  /** carebot's answer to the webhook: the case it joined, or the error. */
  caseId?: number;
  error?: string;
}

export interface ForumReply {
  id: string;
  conversationId: string;
  inReplyTo: string;
  text: string;
  agent: { id: string; name: string };
  verified: boolean;
  at: string;
}

export class Forum extends EventEmitter implements CustomerSide {
  readonly platform = 'forum' as const;
  readonly posts: CustomerPost[] = [];
  readonly replies: ForumReply[] = [];
  private counter = 0;

  constructor(
    private readonly secret: string,
    private readonly webhookUrl: () => string,
  ) {
    super();
  }

  async post(input: NewPost): Promise<CustomerItem> {
    this.counter += 1;
    const handle = handleOf(input);
    const post: CustomerPost = {
      id: `post-${this.counter}-${randomBytes(3).toString('hex')}`,
      conversationId: input.conversationId ?? `topic-${this.counter}`,
      author: {
        id: `forum-${handle}`,
        name: input.name,
        handle,
        ...(input.followers !== undefined ? { followers: input.followers } : {}),
      },
      text: input.text,
      createdAt: new Date().toISOString(),
    };
    this.posts.push(post);
    const body = JSON.stringify({
      source: 'forum',
      id: post.id,
      conversationId: post.conversationId,
      author: { ...post.author, url: `https://forum.sandbox.test/u/${handle}` },
      text: post.text,
      url: `https://forum.sandbox.test/t/${post.conversationId}#${post.id}`,
      createdAt: post.createdAt,
    });
    try {
      const res = await fetch(this.webhookUrl(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signWebhook(this.secret, `sandbox-${post.id}`, new Date(), body),
        },
        body,
      });
      const answer = (await res.json()) as { caseId?: number; error?: string };
      if (res.ok && typeof answer.caseId === 'number') post.caseId = answer.caseId;
      else post.error = answer.error ?? `HTTP ${res.status}`;
    } catch (err) {
      post.error = (err as Error).message;
    }
    this.emit('change');
    return this.itemOf(post);
  }

  items(): CustomerItem[] {
    return [
      ...this.posts.map((p) => this.itemOf(p)),
      ...this.replies.map(
        (r): CustomerItem => ({
          platform: 'forum',
          id: r.id,
          conversationId: r.conversationId,
          parentId: r.inReplyTo,
          kind: 'brand',
          author: { name: r.agent?.name ?? 'carebot' },
          text: r.text,
          at: r.at,
          url: `https://forum.sandbox.test/t/${r.conversationId}#${r.id}`,
          verified: r.verified,
        }),
      ),
    ];
  }

  private itemOf(post: CustomerPost): CustomerItem {
    return {
      platform: 'forum',
      id: post.id,
      conversationId: post.conversationId,
      kind: 'customer',
      author: post.author,
      text: post.text,
      at: post.createdAt,
      url: `https://forum.sandbox.test/t/${post.conversationId}#${post.id}`,
      status: post.caseId ? `case #${post.caseId}` : post.error ? `error: ${post.error}` : undefined,
      caseId: post.caseId,
    };
  }

  /** carebot's reply delivery POSTs here; the answer gives the reply a forum id and URL. */
  receiveReply(rawBody: string, headers: Record<string, string | string[] | undefined>) {
    const verified = verifyWebhook(this.secret, rawBody, headers).ok;
    const body = JSON.parse(rawBody) as Omit<ForumReply, 'id' | 'verified' | 'at'>;
    const reply: ForumReply = {
      id: `reply-${this.replies.length + 1}`,
      conversationId: body.conversationId,
      inReplyTo: body.inReplyTo,
      text: body.text,
      agent: body.agent,
      verified,
      at: new Date().toISOString(),
    };
    this.replies.push(reply);
    this.emit('change');
    return {
      status: verified ? 200 : 401,
      body: { id: reply.id, url: `https://forum.sandbox.test/t/${reply.conversationId}#${reply.id}` },
    };
  }
}
