import { AtUri, RichText } from '@atproto/api';
import { z } from 'zod';
import type { InboundMessage } from '../../care/inbound.js';
import type { BlueskyAccount } from './config.js';

/*
 * Bluesky posts → carebot's inbound message. A post is known by its at:// uri
 * (`at://<author DID>/app.bsky.feed.post/<record key>`), unique across the network, which is the
 * message's external id; a reply belongs to the conversation of its thread's root post.
 */

const strongRef = z.looseObject({ uri: z.string().startsWith('at://'), cid: z.string().min(1) });

/** The parts of an `app.bsky.feed.post` record carebot reads. */
export const postRecord = z.looseObject({
  text: z.string(),
  createdAt: z.string(),
  reply: z.looseObject({ root: strongRef, parent: strongRef }).optional(),
  facets: z
    .array(
      z.looseObject({
        index: z.looseObject({ byteStart: z.number(), byteEnd: z.number() }),
        features: z.array(z.unknown()),
      }),
    )
    .optional(),
  langs: z.array(z.string()).optional(),
});
export type PostRecord = z.output<typeof postRecord>;

/** A post as both `listNotifications` and `searchPosts` give it. */
export interface BlueskyPost {
  uri: string;
  cid: string;
  author: { did: string; handle: string; displayName?: string | undefined };
  record: PostRecord;
  indexedAt: string;
  /** Why it is in the notifications: `mention`, `reply` or `quote`; unset for a keyword hit. */
  reason?: string | undefined;
}

/** Notifications that are someone talking to the account; likes, reposts and follows are not. */
export const CASE_REASONS = new Set(['mention', 'reply', 'quote']);

/** A notification or search hit as carebot reads it, or undefined when its record is not a post. */
export function readPost(item: {
  uri: string;
  cid: string;
  author: { did: string; handle: string; displayName?: string | undefined };
  record: unknown;
  indexedAt: string;
  reason?: string | undefined;
}): BlueskyPost | undefined {
  const record = postRecord.safeParse(item.record);
  if (!record.success) return undefined;
  return {
    uri: item.uri,
    cid: item.cid,
    author: { did: item.author.did, handle: item.author.handle, displayName: item.author.displayName },
    record: record.data,
    indexedAt: item.indexedAt,
    reason: item.reason,
  };
}

export const sourceKeyOf = (account: Pick<BlueskyAccount, 'identifier'>) =>
  `bluesky:${account.identifier.toLowerCase()}`;
export const profileUrl = (handle: string) => `https://bsky.app/profile/${handle}`;

/** `https://bsky.app/profile/<handle>/post/<rkey>`, the page a person opens. */
export function postUrl(uri: string, handle: string): string | undefined {
  try {
    const at = new AtUri(uri);
    return `${profileUrl(handle)}/post/${at.rkey}`;
  } catch {
    return undefined;
  }
}

/** The thread a post belongs to: its root's uri, or its own when it starts the thread. */
export const conversationOf = (post: BlueskyPost) => post.record.reply?.root.uri ?? post.uri;

/**
 * The text as a reader sees it, with links whole: Bluesky shows a long link shortened
 * (`example.com/orders/12…`) and keeps the address in a link facet; the agent gets the address.
 */
export function plainText(record: PostRecord): string {
  if (!record.facets?.length) return record.text;
  let rt: RichText;
  try {
    rt = new RichText({ text: record.text, facets: record.facets as never });
  } catch {
    return record.text;
  }
  let out = '';
  for (const segment of rt.segments()) {
    const uri = segment.link?.uri;
    if (!uri) {
      out += segment.text;
      continue;
    }
    const bare = (text: string) => text.replace(/^https?:\/\//, '').replace(/(\.\.\.|…)$/, '');
    // A shortened link is given whole; a link under other words keeps the words and shows where it goes.
    out += bare(uri).startsWith(bare(segment.text)) ? uri : `${segment.text} (${uri})`;
  }
  return out;
}

export function normalizePost(
  account: BlueskyAccount,
  post: BlueskyPost,
  followers: number | undefined,
): InboundMessage {
  const facts = post.reason === 'quote' ? ['quotes your post'] : [];
  const sentAt = new Date(post.record.createdAt);
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'bluesky',
    externalId: post.uri,
    conversationId: conversationOf(post),
    author: {
      id: post.author.did,
      name: post.author.displayName?.trim() || post.author.handle,
      handle: post.author.handle,
      url: profileUrl(post.author.handle),
      followers,
    },
    text: plainText(post.record),
    url: postUrl(post.uri, post.author.handle),
    // A client sets createdAt; one that lies about it is held to when Bluesky saw the post.
    sentAt:
      Number.isNaN(sentAt.getTime()) || sentAt > new Date(post.indexedAt) ? new Date(post.indexedAt) : sentAt,
    channelId: account.channel,
    ...(facts.length ? { facts } : {}),
  };
}
