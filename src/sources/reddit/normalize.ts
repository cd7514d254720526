import { z } from 'zod';
import type { InboundMessage } from '../../care/inbound.js';
import { matchesKeywords } from '../rss/normalize.js';
import type { RedditAccount } from './config.js';

/*
 * Reddit things → carebot's inbound message. A thing is known by its fullname (`t3_` a post, `t1_`
 * a comment), unique across Reddit, which is the message's external id; a comment belongs to the
 * conversation of its post. Listings are read with `raw_json=1`, so texts are not HTML-escaped.
 */

const fullname = (prefix: 't1' | 't3') => z.string().regex(new RegExp(`^${prefix}_[a-z0-9]+$`));

/** A post (`t3`), from `/r/{sub}/new`. */
export const redditPost = z.looseObject({
  name: fullname('t3'),
  title: z.string(),
  selftext: z.string().optional(),
  author: z.string(),
  created_utc: z.number(),
  permalink: z.string(),
  subreddit: z.string().optional(),
  is_self: z.boolean().optional(),
  /** Where a link post points. */
  url: z.string().optional(),
});

/**
 * A comment (`t1`): from `/r/{sub}/comments` with `link_id` and `permalink`, or from the inbox
 * (mentions, replies) with `context` and `was_comment` instead.
 */
export const redditComment = z.looseObject({
  name: fullname('t1'),
  body: z.string(),
  author: z.string(),
  created_utc: z.number(),
  link_id: fullname('t3').optional(),
  /** The post or comment it answers. */
  parent_id: z.string().optional(),
  link_title: z.string().optional(),
  permalink: z.string().optional(),
  context: z.string().optional(),
  subreddit: z.string().optional(),
  was_comment: z.boolean().optional(),
});

export const redditListing = z.looseObject({
  kind: z.literal('Listing'),
  data: z.looseObject({
    children: z.array(z.looseObject({ kind: z.string(), data: z.unknown() })),
    after: z.string().nullish(),
    before: z.string().nullish(),
  }),
});

export type RedditPost = z.output<typeof redditPost>;
export type RedditComment = z.output<typeof redditComment>;
export type RedditThing = { kind: 't3'; data: RedditPost } | { kind: 't1'; data: RedditComment };

/** A listing's posts and comments; other kinds (private messages, subreddits) are left out. */
export function thingsOf(children: ReadonlyArray<{ kind: string; data: unknown }>): {
  things: RedditThing[];
  unreadable: number;
} {
  const things: RedditThing[] = [];
  let unreadable = 0;
  for (const child of children) {
    const schema = child.kind === 't3' ? redditPost : child.kind === 't1' ? redditComment : undefined;
    if (!schema) continue;
    const parsed = schema.safeParse(child.data);
    if (parsed.success) things.push({ kind: child.kind, data: parsed.data } as RedditThing);
    else unreadable += 1;
  }
  return { things, unreadable };
}

export const sourceKeyOf = (account: Pick<RedditAccount, 'username'>) => `reddit:${account.username}`;
export const profileUrl = (username: string) => `https://www.reddit.com/user/${username}`;
export const redditUrl = (path: string) =>
  `https://www.reddit.com${path.startsWith('/') ? path : `/${path}`}`;

export type SkipReason = 'own content' | 'deleted author' | 'no keyword';

/**
 * Why a thing does not become a case: the account's own posts and comments would loop back,
 * deleted ones name nobody to answer, and with keywords only those that mention one count (a
 * comment also counts when its post's title does: it is part of that conversation).
 */
export function skipReason(
  account: RedditAccount,
  thing: RedditThing,
  useKeywords: boolean,
): SkipReason | undefined {
  const author = thing.data.author;
  if (author.toLowerCase() === account.username.toLowerCase()) return 'own content';
  if (author === '[deleted]' || author === '') return 'deleted author';
  if (!useKeywords || account.keywords.length === 0) return undefined;
  const text =
    thing.kind === 't3'
      ? `${thing.data.title}\n${thing.data.selftext ?? ''}`
      : `${thing.data.body}\n${thing.data.link_title ?? ''}`;
  return matchesKeywords(text, account.keywords) ? undefined : 'no keyword';
}

export function normalizeThing(account: RedditAccount, thing: RedditThing): InboundMessage {
  return thing.kind === 't3' ? normalizePost(account, thing.data) : normalizeComment(account, thing.data);
}

export function normalizePost(account: RedditAccount, post: RedditPost): InboundMessage {
  const selftext = post.selftext?.trim() ?? '';
  // A link post has no text of its own; where it points is what the customer is showing.
  const link = post.is_self === false && post.url && !post.url.includes(post.permalink) ? post.url : '';
  const body = selftext || link;
  return {
    ...common(account, post.author, post.created_utc),
    externalId: post.name,
    conversationId: post.name,
    text: body ? `${post.title}\n\n${body}` : post.title,
    url: redditUrl(post.permalink),
  };
}

export function normalizeComment(account: RedditAccount, comment: RedditComment): InboundMessage {
  const path = comment.permalink ?? comment.context;
  return {
    ...common(account, comment.author, comment.created_utc),
    externalId: comment.name,
    conversationId: comment.link_id ?? postOfContext(comment.context) ?? comment.name,
    text: comment.body,
    url: path ? redditUrl(path) : undefined,
  };
}

function common(account: RedditAccount, author: string, createdUtc: number) {
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'reddit',
    author: { id: author, name: author, handle: author, url: profileUrl(author) },
    sentAt: new Date(createdUtc * 1000),
    channelId: account.channel,
  };
}

/** Inbox items have no `link_id`; their `context` (`/r/sub/comments/<post id>/<slug>/<id>/?context=3`) names the post. */
function postOfContext(context: string | undefined): string | undefined {
  const id = context ? /\/comments\/([a-z0-9]+)\//.exec(context)?.[1] : undefined;
  return id ? `t3_${id}` : undefined;
}

/** Orders fullnames of one kind by age: ids are base 36 and grow, so a longer id is newer. */
export function compareFullnames(a: string, b: string): number {
  const ia = a.slice(a.indexOf('_') + 1);
  const ib = b.slice(b.indexOf('_') + 1);
  if (ia.length !== ib.length) return ia.length - ib.length;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
