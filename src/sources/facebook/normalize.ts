import { z } from 'zod';
import type { InboundMessage } from '../../care/inbound.js';
import type { FacebookPage } from './config.js';

/*
 * Facebook payloads → carebot's inbound message. Ids stay strings: Page, post and comment ids are
 * numbers past 2^53 joined by underscores.
 *
 * The conversation of a comment is its thread. Facebook threads are two levels deep: a top-level
 * comment under a post, and the replies to it. A top-level comment opens its own conversation (its
 * id); a reply joins the conversation of the comment it answers (`parent_id`). So each customer who
 * comments under a busy Page post gets a case of their own, while their back-and-forth with the
 * Page stays in one. When carebot already holds the parent (a visitor post, a customer's comment
 * or a reply it sent), the comment joins that one's conversation instead: comments under a
 * customer's own post belong to the case of the post. A visitor post is its own conversation.
 */

const graphId = z.union([z.string().min(1), z.number().transform(String)]);
const graphTime = z.union([z.number(), z.string()]);

export const graphPerson = z.looseObject({
  id: graphId,
  name: z.string().optional(),
  /** Only where Graph gives one; app-scoped ids do not make profile links. */
  link: z.string().optional(),
});

/** `entry[].changes[].value` of a Page `feed` change. */
export const feedChangeValue = z.looseObject({
  item: z.string(),
  verb: z.string(),
  from: graphPerson.optional(),
  post_id: graphId.optional(),
  comment_id: graphId.optional(),
  parent_id: graphId.optional(),
  message: z.string().optional(),
  created_time: graphTime.optional(),
  permalink_url: z.string().optional(),
  post: z.looseObject({ id: graphId.optional(), permalink_url: z.string().optional() }).optional(),
  photo: z.string().optional(),
  photos: z.array(z.string()).optional(),
  video: z.string().optional(),
  link: z.string().optional(),
});

/** One `entry[].messaging[]` event of the Messenger Platform. */
export const messagingEvent = z.looseObject({
  sender: z.looseObject({ id: graphId }),
  recipient: z.looseObject({ id: graphId }).optional(),
  timestamp: z.number().optional(),
  message: z
    .looseObject({
      mid: z.string(),
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      /** A tapped quick reply: its title is the text, its payload what the Page offered. */
      quick_reply: z.looseObject({ payload: z.string().max(1000).optional() }).optional(),
      attachments: z
        .array(
          z.looseObject({
            type: z.string().optional(),
            payload: z.looseObject({ url: z.string().optional() }).nullish(),
          }),
        )
        .optional(),
    })
    .optional(),
  message_edit: z.looseObject({ mid: z.string(), text: z.string().optional() }).optional(),
  postback: z
    .looseObject({ mid: z.string().optional(), title: z.string().optional(), payload: z.string().optional() })
    .optional(),
});

/** A comment as the Graph API lists it (`GET /{page-id}/feed` with `comments{…}`). */
export const graphComment = z.looseObject({
  id: graphId,
  message: z.string().optional(),
  from: graphPerson.optional(),
  created_time: graphTime.optional(),
  parent: z.looseObject({ id: graphId }).optional(),
  permalink_url: z.string().optional(),
});

/** A post of `GET /{page-id}/feed`, with its newest comments. */
export const graphPost = z.looseObject({
  id: graphId,
  message: z.string().optional(),
  from: graphPerson.optional(),
  created_time: graphTime.optional(),
  permalink_url: z.string().optional(),
  comments: z.looseObject({ data: z.array(graphComment).default([]) }).optional(),
});

export const graphFeedPage = z.looseObject({
  data: z.array(graphPost),
  paging: z.looseObject({ next: z.string().optional() }).optional(),
});

export type FeedChangeValue = z.output<typeof feedChangeValue>;
export type MessagingEvent = z.output<typeof messagingEvent>;
export type GraphComment = z.output<typeof graphComment>;
export type GraphPost = z.output<typeof graphPost>;
export type GraphPerson = z.output<typeof graphPerson>;

export const facebookSourceKey = (page: Pick<FacebookPage, 'pageId'>) => `facebook:${page.pageId}`;
export const messengerConversation = (psid: string) => `messenger:${psid}`;

/** Feed items that are posts on the Page (visitor posts when someone else wrote them). */
const POST_ITEMS = new Set(['post', 'status', 'photo', 'video', 'share']);

/** What a feed change means to carebot; undefined for reactions, likes, hides and the like. */
export type FeedChange =
  | { kind: 'comment' | 'post'; verb: 'add' | 'edited' | 'remove'; externalId: string; ownContent: boolean }
  | undefined;

export function feedChangeOf(page: FacebookPage, value: FeedChangeValue): FeedChange {
  const kind = value.item === 'comment' ? 'comment' : POST_ITEMS.has(value.item) ? 'post' : undefined;
  if (!kind) return undefined;
  const verb =
    value.verb === 'add' || value.verb === 'edited' || value.verb === 'remove' ? value.verb : undefined;
  const externalId = kind === 'comment' ? value.comment_id : value.post_id;
  if (!verb || !externalId) return undefined;
  return { kind, verb, externalId, ownContent: value.from?.id === page.pageId };
}

/** The thread a comment belongs to when carebot holds none of its parents (see the note above). */
export function commentThread(commentId: string, postId: string | undefined, parentId: string | undefined) {
  return parentId && parentId !== postId ? parentId : commentId;
}

/** A Page post's or comment's essentials, from a webhook or from the Graph API alike. */
export interface FeedItem {
  id: string;
  text: string;
  from: GraphPerson | undefined;
  sentAt: Date;
  url: string | undefined;
}

export function feedItemFromChange(value: FeedChangeValue, id: string, receivedAt: Date): FeedItem {
  const attachments = [
    ...(value.photo ? [`(photo) ${value.photo}`] : []),
    ...(value.photos ?? []).map((url) => `(photo) ${url}`),
    ...(value.video ? [`(video) ${value.video}`] : []),
    ...(value.link && value.item !== 'comment' ? [value.link] : []),
  ];
  return {
    id,
    text: withAttachments(value.message, attachments),
    from: value.from,
    sentAt: graphTimeToDate(value.created_time, receivedAt),
    // A comment's own link is not in the payload; its post's is, and shows the comment in context.
    url: value.permalink_url ?? value.post?.permalink_url,
  };
}

export function feedItemFromGraph(item: GraphPost | GraphComment, receivedAt: Date): FeedItem {
  return {
    id: item.id,
    text: withAttachments(item.message, []),
    from: item.from,
    sentAt: graphTimeToDate(item.created_time, receivedAt),
    url: item.permalink_url,
  };
}

/** A comment or visitor post on the Page as an inbound message. */
export function normalizeFeedItem(
  page: FacebookPage,
  item: FeedItem,
  conversationId: string,
): InboundMessage {
  return {
    sourceKey: facebookSourceKey(page),
    platform: 'facebook',
    externalId: item.id,
    conversationId,
    author: {
      // Graph leaves `from` out for people who have not allowed apps to see them; the case still opens.
      id: item.from?.id ?? '',
      name: item.from?.name,
      handle: undefined,
      url: item.from?.link,
    },
    text: item.text,
    url: item.url,
    sentAt: item.sentAt,
    channelId: page.channel,
  };
}

/**
 * A customer's Messenger message: one conversation per customer (their page-scoped id), which is
 * also where the answer goes. Undefined for the Page's own (echoes) and for events without words.
 */
export function normalizeMessengerEvent(
  page: FacebookPage,
  event: MessagingEvent,
  receivedAt: Date,
): InboundMessage | undefined {
  const psid = event.sender.id;
  if (psid === page.pageId || event.message?.is_echo) return undefined;
  let externalId: string;
  let text: string;
  let quickReply: string | undefined;
  if (event.message) {
    quickReply = event.message.quick_reply?.payload;
    externalId = event.message.mid;
    const attachments = (event.message.attachments ?? []).map(
      (a) => `(${a.type ?? 'attachment'})${a.payload?.url ? ` ${a.payload.url}` : ''}`,
    );
    text = withAttachments(event.message.text, attachments);
  } else if (event.postback?.mid) {
    // A tap on a button the Page sent: the button's title is what the customer "said".
    externalId = event.postback.mid;
    text = event.postback.title ?? event.postback.payload ?? '(tapped a button)';
  } else {
    return undefined;
  }
  return {
    sourceKey: facebookSourceKey(page),
    platform: 'facebook',
    externalId,
    conversationId: messengerConversation(psid),
    author: { id: psid, name: undefined, handle: undefined, url: undefined },
    text,
    url: undefined,
    sentAt: graphTimeToDate(event.timestamp, receivedAt),
    ...(quickReply ? { quickReply } : {}),
    channelId: page.channel,
  };
}

function withAttachments(message: string | undefined, attachments: string[]): string {
  const parts = [message?.trim() ?? '', ...attachments].filter((p) => p !== '');
  return parts.length > 0 ? parts.join('\n') : '(no text)';
}

/**
 * Graph times: unix seconds in feed webhooks, milliseconds in Messenger ones, ISO 8601 with `+0000`
 * from the Graph API.
 */
export function graphTimeToDate(value: number | string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isFinite(n) && n > 0) return new Date(n < 1e11 ? n * 1000 : n);
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms);
}
