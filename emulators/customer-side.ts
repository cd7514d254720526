/**
 * What the sandbox page shows on its customer side, whatever the platform: each customer post and
 * each answer from the brand is an item; an item's `parentId` is the post it sits under, so the
 * page can draw every conversation as the platform would (a reply under the post it answers).
 */

export type CustomerPlatform = 'x' | 'facebook' | 'forum';

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
}

/** A complaint or follow-up typed on the page's customer side. */
export interface NewPost {
  name: string;
  handle?: string;
  followers?: number;
  text: string;
  /** A follow-up joins this conversation; without it the post starts a new one. */
  conversationId?: string;
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
