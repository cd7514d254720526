import { z } from 'zod';
import type { InboundMessage } from '../../care/inbound.js';
import type { FacebookPage } from '../facebook/config.js';
import { graphTimeToDate } from '../facebook/normalize.js';

/*
 * Instagram webhook payloads (`object: instagram`, one entry per professional account) → inbound
 * messages. Comment threads on Instagram are two levels deep, like Facebook's, and a reply to a
 * reply lands under the top-level comment: the conversation is that top-level comment
 * (`parent_id`, or the comment itself), so each customer commenting under a busy post gets their
 * own case. @mentions elsewhere (another account's media) are a conversation per media:
 * `mention:<media id>`, which is also how replies know to answer through the mentions edge.
 */

const graphId = z.union([z.string().min(1), z.number().transform(String)]);

/** `changes[].value` of the `comments` field. */
export const instagramCommentValue = z.looseObject({
  id: graphId,
  text: z.string().optional(),
  from: z.looseObject({ id: graphId, username: z.string().optional() }).optional(),
  media: z.looseObject({ id: graphId, media_product_type: z.string().optional() }).optional(),
  parent_id: graphId.optional(),
});

/** `changes[].value` of the `mentions` field: only ids; the words are fetched (see mentions.ts). */
export const instagramMentionValue = z.looseObject({
  media_id: graphId,
  comment_id: graphId.optional(),
});

export type InstagramCommentValue = z.output<typeof instagramCommentValue>;
export type InstagramMentionValue = z.output<typeof instagramMentionValue>;

export const instagramSourceKey = (igAccountId: string) => `instagram:${igAccountId}`;
export const instagramProfileUrl = (username: string) => `https://www.instagram.com/${username}`;
export const mentionConversation = (mediaId: string) => `mention:${mediaId}`;

/** Instagram cases go to `sources.instagram.channel` when set, else to the Page's channel. */
export const instagramChannel = (page: FacebookPage, channel: string | undefined) => channel ?? page.channel;

/** The account's own comments (its replies included) would loop back as cases. */
export function isOwnInstagramComment(page: FacebookPage, value: InstagramCommentValue): boolean {
  return value.from?.id !== undefined && value.from.id === page.instagramAccountId;
}

export function normalizeInstagramComment(
  page: FacebookPage & { instagramAccountId: string },
  value: InstagramCommentValue,
  options: { channel: string | undefined; sentAt: Date },
): InboundMessage {
  const username = value.from?.username;
  return {
    sourceKey: instagramSourceKey(page.instagramAccountId),
    platform: 'instagram',
    externalId: value.id,
    conversationId: value.parent_id ?? value.id,
    author: {
      id: value.from?.id ?? '',
      name: undefined,
      handle: username,
      url: username ? instagramProfileUrl(username) : undefined,
    },
    text: value.text?.trim() || '(no text)',
    url: undefined,
    sentAt: options.sentAt,
    channelId: instagramChannel(page, options.channel),
  };
}

/** What carebot could learn about a mention; every field may be missing when the lookup failed. */
export interface MentionDetails {
  text?: string | undefined;
  username?: string | undefined;
  timestamp?: string | undefined;
  permalink?: string | undefined;
}

export function normalizeInstagramMention(
  page: FacebookPage & { instagramAccountId: string },
  mention: InstagramMentionValue,
  details: MentionDetails,
  options: { channel: string | undefined; receivedAt: Date },
): InboundMessage {
  const where = mention.comment_id ? 'a comment' : 'the caption of a post';
  const username = details.username;
  return {
    sourceKey: instagramSourceKey(page.instagramAccountId),
    platform: 'instagram',
    externalId: mention.comment_id ?? mention.media_id,
    conversationId: mentionConversation(mention.media_id),
    author: {
      // Instagram names who wrote a caption, but not who wrote a mentioning comment.
      id: username ?? '',
      name: username ? undefined : 'Instagram user',
      handle: username,
      url: username ? instagramProfileUrl(username) : undefined,
    },
    text:
      details.text?.trim() ||
      `(mentioned the account in ${where}; carebot could not read the words from Instagram${details.permalink ? ', open the link' : ''})`,
    url: details.permalink,
    sentAt: graphTimeToDate(details.timestamp, options.receivedAt),
    channelId: instagramChannel(page, options.channel),
  };
}
