import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../src/logger.js';
import { addressOf } from './http.js';

/**
 * What the sandbox page shows on its customer side, whatever the platform: each customer post and
 * each answer from the brand is an item; an item's `parentId` is the post it sits under, so the
 * page can draw every conversation as the platform would (a reply under the post it answers).
 */

export type CustomerPlatform =
  | 'x'
  | 'facebook'
  | 'forum'
  | 'google_play'
  | 'mastodon'
  | 'bluesky'
  | 'app_store';

export interface CustomerItem {
  platform: CustomerPlatform;
  id: string;
  /** The conversation it belongs to, unique within its platform (the root post's id). */
  conversationId: string;
  /** The post it answers or sits under; unset for a conversation's first post. */
  parentId?: string | undefined;
  /** A customer's post, or the brand's public answer, or the brand's private message. */
  kind: 'customer' | 'brand' | 'private';
  author: { name: string; handle?: string | undefined; followers?: number | undefined };
  text: string;
  at: string;
  url?: string | undefined;
  /** How the post got to carebot: "case #3", "delivered", or what went wrong. */
  status?: string | undefined;
  /** The case carebot answered with, where the platform's webhook answer names it (the forum). */
  caseId?: number | undefined;
  /** False when the brand's answer did not carry a valid signature (the forum's reply_url). */
  verified?: boolean | undefined;
  /** A store review's rating, 1 to 5. */
  stars?: number | undefined;
}

/** A complaint or follow-up typed on the page's customer side. */
export interface NewPost {
  name: string;
  handle?: string;
  followers?: number;
  text: string;
  /** A follow-up joins this conversation; without it the post starts a new one. */
  conversationId?: string;
  /** A store review's rating, 1 to 5 (default 1: the one-star review). */
  stars?: number;
  /** Written privately where the platform has that for a first post (a Mastodon direct mention). */
  direct?: boolean;
}

/** A simulated platform on the customer side. */
export interface CustomerSide {
  readonly platform: CustomerPlatform;
  post(input: NewPost): Promise<CustomerItem>;
  items(): CustomerItem[];
  on(event: 'change', listener: () => void): unknown;
}

/** A username from a display name: lower case letters, digits and underscores. */
export function handleOf(input: Pick<NewPost, 'name' | 'handle'>): string {
  const handle = (input.handle ?? input.name).toLowerCase().replace(/[^a-z0-9_]+/g, '');
  return handle || 'guest';
}

/** A customer side that runs on a platform's API emulator: where it listens, and closing it. */
export abstract class CustomersOnApi<
  Api extends { url: string; close(): Promise<void> },
> extends EventEmitter {
  protected api!: Api;
  /** How each customer post got to carebot (or did not), by id. */
  protected readonly statuses = new Map<string, string>();
  /** Whether carebot passed the platform's webhook check at start (X's CRC, Meta's verify token). */
  webhookVerified = false;

  /** @param webhookUrl carebot's webhook for this platform, known once carebot listens. */
  protected constructor(
    protected readonly webhookUrl: () => string,
    protected readonly logger: Logger,
  ) {
    super();
  }

  /** Runs the platform's webhook check; a failure (or an error) is logged once, with `what`. */
  protected async verifyWebhook(what: string, check: () => Promise<boolean>): Promise<boolean> {
    try {
      this.webhookVerified = await check();
    } catch {
      this.webhookVerified = false;
    }
    if (!this.webhookVerified) this.logger.warn(`carebot did not pass the ${what}`);
    return this.webhookVerified;
  }

  /** Where the fake API listens (127.0.0.1), as the source's API URL. */
  get url(): string {
    return this.api.url;
  }

  get address(): AddressInfo {
    return addressOf(this.api.url);
  }

  close(): Promise<void> {
    return this.api.close();
  }
}

/** Posts one signed webhook delivery to carebot, as the platform would; what happened, for the page. */
export async function deliverToCarebot(
  url: string,
  body: string,
  signature: Record<string, string>,
): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signature },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return res.ok ? 'delivered to carebot' : `carebot answered HTTP ${res.status}`;
  } catch (err) {
    return `not delivered: ${(err as Error).message}`;
  }
}
