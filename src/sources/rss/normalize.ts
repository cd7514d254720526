import type Parser from 'rss-parser';
import type { InboundMessage } from '../../care/inbound.js';
import type { RssFeed } from './config.js';
import { MAX_ITEM_TEXT } from './limits.js';
import { collapseWhitespace, htmlToText } from './plain-text.js';

/**
 * One item as rss-parser hands it over. Its types promise strings, but an element with attributes
 * or child elements (an Atom `<title type="xhtml">`, a `<guid isPermaLink="false"/>`) arrives as an
 * object, so everything is read through `textOf`.
 */
export type FeedItem = Parser.Item & {
  /** Atom `<id>`. */
  id?: unknown;
  /** Atom `<author><name>`, RSS `<author>` (an email address, often with the name in brackets). */
  author?: unknown;
  'dc:creator'?: unknown;
  'content:encoded'?: unknown;
};

export type FeedItemResult = { ok: true; message: InboundMessage } | { ok: false; reason: string };

export const rssSourceKey = (feed: Pick<RssFeed, 'name'>) => `rss:${feed.name}`;

/**
 * A feed item as a customer's message. Every item is a conversation of its own (a forum post or a
 * blog comment), identified by its guid, Atom id or link. Items the feed's keywords do not mention
 * are not cases.
 */
export function normalizeFeedItem(item: FeedItem, feed: RssFeed, polledAt: Date): FeedItemResult {
  const externalId = feedItemId(item);
  if (!externalId) return { ok: false, reason: 'the item has no guid, id or link to tell it apart' };

  const title = collapseWhitespace(htmlToText(textOf(item.title) ?? '').replace(/\n+/g, ' '));
  const html = textOf(item['content:encoded']) ?? textOf(item.content) ?? textOf(item.summary) ?? '';
  const body = htmlToText(html);
  if (!matchesKeywords(`${title}\n${body}`, feed.keywords)) {
    return { ok: false, reason: 'none of the feed keywords is mentioned' };
  }

  const url = httpUrl(textOf(item.link), feed.url);
  const authorText = textOf(item.creator) ?? textOf(item.author) ?? textOf(item['dc:creator']);
  // A date in the future is a wrong clock on the site; the post is no newer than now.
  const published = publishedAt(item);
  const text = [title, body].filter(Boolean).join('\n\n') || url || '(an empty post)';
  return {
    ok: true,
    message: {
      sourceKey: rssSourceKey(feed),
      platform: 'rss',
      externalId,
      conversationId: externalId,
      author: authorText ? { id: authorText, name: displayName(authorText) } : { id: 'unknown' },
      text: truncate(text, MAX_ITEM_TEXT),
      url,
      sentAt: published && published <= polledAt ? published : polledAt,
      channelId: feed.channel,
    },
  };
}

/** The item's stable id: its guid (RSS), id (Atom) or, failing both, its link. */
export function feedItemId(item: FeedItem): string | undefined {
  return textOf(item.guid) ?? textOf(item.id) ?? textOf(item.link);
}

/** When the item says it was published, if it says so in a form that parses. */
export function publishedAt(item: FeedItem): Date | undefined {
  for (const value of [item.isoDate, item.pubDate]) {
    const text = textOf(value);
    if (!text) continue;
    const at = new Date(text);
    if (!Number.isNaN(at.getTime())) return at;
  }
  return undefined;
}

/**
 * Whether `text` mentions one of `keywords` as a whole word or phrase, ignoring case: "refund"
 * matches "Refund!" but not "refunded"; "late delivery" matches across a line break. Letters of
 * every script count as word characters, so "über" is not found inside "darüber".
 */
export function matchesKeywords(text: string, keywords: readonly string[]): boolean {
  const terms = keywords.map((k) => k.normalize('NFC').trim()).filter(Boolean);
  if (terms.length === 0) return true;
  const alternatives = terms.map((t) => t.split(/\s+/).map(escapeRegExp).join('\\s+'));
  const word = '[\\p{L}\\p{M}\\p{N}_]';
  return new RegExp(`(?<!${word})(?:${alternatives.join('|')})(?!${word})`, 'iu').test(text.normalize('NFC'));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A string value, trimmed, from a string or an element parsed with attributes (`{ _: text }`). */
function textOf(value: unknown): string | undefined {
  const raw =
    typeof value === 'string'
      ? value
      : value && typeof value === 'object' && typeof (value as { _?: unknown })._ === 'string'
        ? (value as { _: string })._
        : undefined;
  const trimmed = raw?.trim();
  return trimmed ? trimmed : undefined;
}

/** The item's link as an absolute http(s) URL; relative links are read against the feed's address. */
function httpUrl(link: string | undefined, base: string): string | undefined {
  if (!link) return undefined;
  try {
    const url = new URL(link, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** RSS `<author>` is `jane@example.com (Jane Doe)`; the name in brackets is what people read. */
function displayName(author: string): string {
  const bracketed = /^\S+@\S+\s+\((.+)\)$/.exec(author);
  return bracketed?.[1]?.trim() || author;
}

/** Cuts to at most `max` UTF-16 units, ending in "…", without splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end).trimEnd()}…`;
}
