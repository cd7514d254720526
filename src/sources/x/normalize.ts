import { z } from 'zod';
import type { InboundMessage } from '../../care/inbound.js';
import type { XAccount } from './config.js';

/*
 * X payloads → carebot's inbound message. Ids stay strings from end to end: tweet and user ids are
 * 64-bit snowflakes that a JavaScript number would round.
 */

// X API v2 (polling): the fields carebot asks for with tweet.fields, expansions and user.fields.
export const xUser = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  username: z.string().optional(),
  public_metrics: z.looseObject({ followers_count: z.number().optional() }).optional(),
});

export const xTweet = z.looseObject({
  id: z.string(),
  text: z.string(),
  author_id: z.string().optional(),
  created_at: z.string().optional(),
  conversation_id: z.string().optional(),
  in_reply_to_user_id: z.string().optional(),
  referenced_tweets: z.array(z.looseObject({ type: z.string(), id: z.string() })).optional(),
});

/** A page of a v2 timeline or search: `data`, `includes.users`, `meta`. */
export const xTweetPage = z.looseObject({
  data: z.array(xTweet).optional(),
  includes: z.looseObject({ users: z.array(xUser).optional() }).optional(),
  meta: z
    .looseObject({
      result_count: z.number().optional(),
      newest_id: z.string().optional(),
      oldest_id: z.string().optional(),
      next_token: z.string().optional(),
    })
    .optional(),
});

/** A v2 direct message event (`GET /2/dm_events`). */
export const xDmEvent = z.looseObject({
  id: z.string(),
  event_type: z.string().optional(),
  text: z.string(),
  sender_id: z.string(),
  dm_conversation_id: z.string().optional(),
  created_at: z.string().optional(),
});

export type XUser = z.output<typeof xUser>;
export type XTweet = z.output<typeof xTweet>;
export type XTweetPage = z.output<typeof xTweetPage>;
export type XDmEvent = z.output<typeof xDmEvent>;

export const sourceKeyOf = (account: XAccount) => `x:${account.userId}`;
export const profileUrl = (username: string) => `https://x.com/${username}`;
export const tweetUrl = (username: string, id: string) => `https://x.com/${username}/status/${id}`;

export type SkipReason = 'own post' | 'retweet';

/** The account's own posts would loop back as cases; retweets add nobody's words. */
export function tweetSkipReason(account: XAccount, tweet: XTweet): SkipReason | undefined {
  if (tweet.author_id === account.userId) return 'own post';
  if (tweet.referenced_tweets?.some((r) => r.type === 'retweeted')) return 'retweet';
  return undefined;
}

export function normalizeTweet(
  account: XAccount,
  tweet: XTweet,
  users: ReadonlyMap<string, XUser>,
  receivedAt: Date,
): InboundMessage {
  const authorId = tweet.author_id ?? '';
  const user = users.get(authorId);
  const username = user?.username;
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'x',
    externalId: tweet.id,
    conversationId: tweet.conversation_id ?? tweet.id,
    author: {
      id: authorId,
      name: user?.name,
      handle: username,
      url: username ? profileUrl(username) : undefined,
      followers: user?.public_metrics?.followers_count,
    },
    text: unescapeTweetText(tweet.text),
    // x.com resolves a status under any name, so a post whose author X did not expand still links.
    url: tweetUrl(username ?? 'i/web', tweet.id),
    sentAt: parseTime(tweet.created_at, receivedAt),
    channelId: account.channel,
  };
}

export function isOwnDirectMessage(account: XAccount, event: XDmEvent): boolean {
  return event.sender_id === account.userId;
}

/** A direct message: one conversation per customer, `dm:<their id>`, which is also where replies go. */
export function normalizeDmEvent(
  account: XAccount,
  event: XDmEvent,
  users: ReadonlyMap<string, XUser>,
  receivedAt: Date,
): InboundMessage {
  const user = users.get(event.sender_id);
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'x',
    externalId: event.id,
    conversationId: `dm:${otherParticipant(account, event)}`,
    author: {
      id: event.sender_id,
      name: user?.name,
      handle: user?.username,
      url: user?.username ? profileUrl(user.username) : undefined,
      followers: user?.public_metrics?.followers_count,
    },
    text: event.text,
    url: undefined,
    sentAt: parseTime(event.created_at, receivedAt),
    channelId: account.channel,
  };
}

function otherParticipant(account: XAccount, event: XDmEvent): string {
  if (event.sender_id !== account.userId) return event.sender_id;
  // One-to-one conversation ids are the two user ids joined by a dash.
  const ids = event.dm_conversation_id?.split('-') ?? [];
  return ids.find((id) => id !== account.userId) ?? event.sender_id;
}

// Account Activity API (webhooks) delivers the v1.1 shapes, users embedded in each tweet.
const activityUser = z.looseObject({
  id_str: z.string(),
  screen_name: z.string().optional(),
  name: z.string().optional(),
  followers_count: z.number().optional(),
});

export const activityTweet = z.looseObject({
  id_str: z.string(),
  text: z.string().optional(),
  full_text: z.string().optional(),
  // Tweets over 140 characters arrive truncated, the whole text here.
  extended_tweet: z.looseObject({ full_text: z.string().optional() }).optional(),
  created_at: z.string().optional(),
  in_reply_to_status_id_str: z.string().nullish(),
  retweeted_status: z.unknown().optional(),
  user: activityUser,
});

export const activityDmEvent = z.looseObject({
  type: z.string(),
  id: z.string(),
  created_timestamp: z.string().optional(),
  message_create: z
    .looseObject({
      sender_id: z.string(),
      target: z.looseObject({ recipient_id: z.string() }).optional(),
      message_data: z.looseObject({
        text: z.string(),
        /** A tapped quick-reply option: its label is the text, its metadata what the account offered. */
        quick_reply_response: z
          .looseObject({ type: z.string().optional(), metadata: z.string().max(1000).optional() })
          .optional(),
      }),
    })
    .optional(),
});

export const activityUsers = z.record(
  z.string(),
  z.looseObject({
    id: z.string().optional(),
    name: z.string().optional(),
    screen_name: z.string().optional(),
    followers_count: z.number().optional(),
  }),
);

export type ActivityTweet = z.output<typeof activityTweet>;
export type ActivityDmEvent = z.output<typeof activityDmEvent>;
export type ActivityUsers = z.output<typeof activityUsers>;

export function activityTweetSkipReason(account: XAccount, tweet: ActivityTweet): SkipReason | undefined {
  if (tweet.user.id_str === account.userId) return 'own post';
  if (tweet.retweeted_status != null) return 'retweet';
  return undefined;
}

/**
 * A tweet from a webhook. v1.1 payloads carry no conversation id, so the caller passes the one it
 * could work out (the case of the post it answers, when carebot knows that post).
 */
export function normalizeActivityTweet(
  account: XAccount,
  tweet: ActivityTweet,
  conversationId: string,
  receivedAt: Date,
): InboundMessage {
  const username = tweet.user.screen_name;
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'x',
    externalId: tweet.id_str,
    conversationId,
    author: {
      id: tweet.user.id_str,
      name: tweet.user.name,
      handle: username,
      url: username ? profileUrl(username) : undefined,
      followers: tweet.user.followers_count,
    },
    text: unescapeTweetText(tweet.extended_tweet?.full_text ?? tweet.full_text ?? tweet.text ?? ''),
    url: tweetUrl(username ?? 'i/web', tweet.id_str),
    sentAt: parseTime(tweet.created_at, receivedAt),
    channelId: account.channel,
  };
}

/** The customer's direct message from a webhook; undefined for the account's own and other event types. */
export function normalizeActivityDm(
  account: XAccount,
  event: ActivityDmEvent,
  users: ActivityUsers,
  receivedAt: Date,
): InboundMessage | undefined {
  const create = event.message_create;
  if (event.type !== 'message_create' || !create || create.sender_id === account.userId) return undefined;
  const user = users[create.sender_id];
  const sentMs = Number(event.created_timestamp);
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'x',
    externalId: event.id,
    conversationId: `dm:${create.sender_id}`,
    author: {
      id: create.sender_id,
      name: user?.name,
      handle: user?.screen_name,
      url: user?.screen_name ? profileUrl(user.screen_name) : undefined,
      followers: user?.followers_count,
    },
    text: create.message_data.text,
    url: undefined,
    sentAt: Number.isFinite(sentMs) && sentMs > 0 ? new Date(sentMs) : receivedAt,
    ...(create.message_data.quick_reply_response?.metadata
      ? { quickReply: create.message_data.quick_reply_response.metadata }
      : {}),
    channelId: account.channel,
  };
}

/** X escapes `&`, `<` and `>` in post text; the message keeps what the customer typed. */
export function unescapeTweetText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** v2 times are ISO 8601; v1.1 ones look like "Wed Oct 10 20:19:24 +0000 2018", which Date reads too. */
function parseTime(value: string | undefined, fallback: Date): Date {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms);
}
