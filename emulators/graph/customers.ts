import { randomBytes } from 'node:crypto';
import type { Logger } from '../../src/logger.js';
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
  type FakeComment,
  type FakeGraph,
  type FakeGraphPerson,
  type FakePost,
  type SentOnGraph,
  signFacebookBody,
  startFakeGraph,
} from './api.js';

/**
 * The sandbox's Facebook: a Page whose visitors post and comment, on the Graph API emulator (api.ts)
 * that carebot's real Facebook source answers through (GRAPH_API_URL), and the Page webhook Meta
 * would send. A customer's post or comment is delivered to carebot's `/sources/facebook/webhook`
 * signed with the app secret (`X-Hub-Signature-256`), as Meta signs it. carebot's answers arrive as
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

/** What the page shows, in the order it happened: a post, a comment, or a private reply. */
type Shown =
  | { kind: 'post'; post: FakePost }
  | { kind: 'comment'; comment: FakeComment }
  | { kind: 'private'; id: string; text: string; postId: string; under: string | undefined; at: string };

export class SandboxFacebook extends CustomersOnApi<FakeGraph> implements CustomerSide {
  readonly platform = 'facebook' as const;
  private readonly shown: Shown[] = [];
  private readonly people = new Map<string, FakeGraphPerson & { name: string }>();
  private readonly nextPersonId = idSequence(7_000_000_000_000_000n);

  private constructor(
    readonly page: FacebookBrandPage,
    webhookUrl: () => string,
    logger: Logger,
  ) {
    super(webhookUrl, logger);
  }

  static async start(webhookUrl: () => string, logger: Logger): Promise<SandboxFacebook> {
    const page: FacebookBrandPage = {
      name: 'acme',
      pageId: '104000000000000777',
      pageToken: `EAA${randomBytes(24).toString('hex')}`,
      appSecret: randomBytes(16).toString('hex'),
      verifyToken: randomBytes(12).toString('hex'),
    };
    const fb = new SandboxFacebook(page, webhookUrl, logger.child({ sandbox: 'facebook' }));
    fb.api = await startFakeGraph({
      pages: [{ ...page, instagramAccountId: undefined, channel: '' }],
      keepCalls: 200,
      onSent: (sent) => fb.sent(sent),
    });
    return fb;
  }

  /** The Graph requests carebot made, newest last (the last 200), for tests and troubleshooting. */
  get calls(): ApiCall[] {
    return this.api.calls.map(({ method, version, path, status }) => ({
      method,
      path: version ? `/${version}${path}` : path,
      status,
    }));
  }

  /** Meta's subscription check: carebot must echo the challenge when the verify token matches. */
  async checkWebhook(): Promise<boolean> {
    const challenge = randomBytes(8).toString('hex');
    const query = new URLSearchParams({
      'hub.mode': 'subscribe',
      'hub.verify_token': this.page.verifyToken,
      'hub.challenge': challenge,
    });
    return this.verifyWebhook('Facebook webhook verification', async () => {
      const res = await fetch(`${this.webhookUrl()}?${query}`, { signal: AbortSignal.timeout(10_000) });
      return res.ok && (await res.text()) === challenge;
    });
  }

  /**
   * A new complaint is a visitor post on the Page. A follow-up is a comment on it: under the Page's
   * latest answer when there is one (replying to it, as a person would), else under the post.
   */
  async post(input: NewPost): Promise<CustomerItem> {
    const from = this.person(input);
    const root = input.conversationId ? this.api.posts.find((p) => p.id === input.conversationId) : undefined;
    let shown: Shown;
    if (!root) {
      shown = {
        kind: 'post',
        post: this.api.addPost({ pageId: this.page.pageId, from, message: input.text }),
      };
    } else {
      const answer = this.api.comments
        .filter((c) => c.postId === root.id && c.from.id === this.page.pageId)
        .at(-1);
      const parentId = answer ? (answer.parentId ?? answer.id) : undefined;
      const comment = this.api.addComment({
        postId: root.id,
        ...(parentId ? { parentId } : {}),
        from,
        message: input.text,
      });
      shown = { kind: 'comment', comment };
    }
    this.shown.push(shown);
    this.emit('change');
    this.statuses.set(idOf(shown), await this.deliver(shown));
    this.emit('change');
    return this.itemOf(shown);
  }

  items(): CustomerItem[] {
    return this.shown.map((o) => this.itemOf(o));
  }

  /** carebot answered through the API: a comment, or a private reply (Messenger). */
  private sent(sent: SentOnGraph): void {
    if (sent.kind === 'comment') {
      const comment = this.api.comments.find((c) => c.id === sent.id);
      if (!comment) return;
      const shown: Shown = { kind: 'comment', comment };
      this.shown.push(shown);
      // Meta sends the Page's own comments to the webhook too; carebot must skip its own words.
      setImmediate(() => {
        void this.deliver(shown);
      });
    } else if (sent.kind === 'private_reply') {
      const comment = this.api.comments.find((c) => c.id === sent.target);
      this.shown.push({
        kind: 'private',
        id: sent.id,
        text: sent.text,
        postId: comment?.postId ?? sent.target,
        under: comment?.id,
        at: new Date().toISOString(),
      });
    } else {
      return;
    }
    this.emit('change');
  }

  private itemOf(o: Shown): CustomerItem {
    if (o.kind === 'private') {
      return {
        platform: 'facebook',
        id: o.id,
        conversationId: o.postId,
        parentId: o.under ?? o.postId,
        kind: 'private',
        author: { name: 'Acme' },
        text: o.text,
        at: o.at,
        url: `${permalink(o.postId)}?comment_id=${o.id}`,
      };
    }
    const { from, message, createdTime } = o.kind === 'post' ? o.post : o.comment;
    const own = from.id === this.page.pageId;
    const postId = o.kind === 'post' ? o.post.id : o.comment.postId;
    const id = idOf(o);
    return {
      platform: 'facebook',
      id,
      conversationId: postId,
      parentId: o.kind === 'post' ? undefined : (o.comment.parentId ?? postId),
      kind: own ? 'brand' : 'customer',
      author: { name: own ? 'Acme' : (from.name ?? from.id) },
      text: message,
      at: new Date(createdTime).toISOString(),
      url: o.kind === 'post' ? permalink(id) : `${permalink(postId)}?comment_id=${id}`,
      status: this.statuses.get(id),
    };
  }

  private person(input: NewPost): FakeGraphPerson & { name: string } {
    const key = handleOf(input);
    let person = this.people.get(key);
    if (!person) {
      person = { id: this.nextPersonId(), name: input.name };
      this.people.set(key, person);
    }
    person.name = input.name || person.name;
    return person;
  }

  /** A Page `feed` change, signed with the app secret as Meta signs it. */
  private async deliver(o: Exclude<Shown, { kind: 'private' }>): Promise<string> {
    const object = o.kind === 'post' ? o.post : o.comment;
    const value =
      o.kind === 'post'
        ? {
            item: 'status',
            verb: 'add',
            post_id: o.post.id,
            published: 1,
            permalink_url: permalink(o.post.id),
          }
        : {
            item: 'comment',
            verb: 'add',
            comment_id: o.comment.id,
            post_id: o.comment.postId,
            parent_id: o.comment.parentId ?? o.comment.postId,
            post: {
              id: o.comment.postId,
              permalink_url: permalink(o.comment.postId),
              status_type: 'mobile_status_update',
            },
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
                from: object.from,
                message: object.message,
                created_time: Math.floor(Date.parse(object.createdTime) / 1000),
              },
            },
          ],
        },
      ],
    });
    return deliverToCarebot(this.webhookUrl(), body, {
      'x-hub-signature-256': signFacebookBody(this.page.appSecret, body),
    });
  }
}

function idOf(o: Shown): string {
  return o.kind === 'post' ? o.post.id : o.kind === 'comment' ? o.comment.id : o.id;
}

const permalink = (postId: string) => `https://www.facebook.com/${postId.replace('_', '/posts/')}`;
