import { z } from 'zod';
import { type Duration, hours } from '../../care/clock.js';
import type { InboundMessage } from '../../care/inbound.js';
import type { Logger } from '../../logger.js';
import type { PollContext, Poller, PollOutcome } from '../types.js';
import type { RssFeed } from './config.js';
import { DEFAULT_USER_AGENT, fetchFeed, parseFeed } from './fetch-feed.js';
import { feedItemId, normalizeFeedItem, publishedAt, rssSourceKey } from './normalize.js';

/**
 * Items can show up in a feed later than their date says (moderation queues, caches, a site's
 * clock): a day before the newest date seen is read again, and duplicates are no-ops.
 */
const LATE_ITEMS: Duration = hours(24);
const BACKFILL_PROGRESS_EVERY = 25;

export interface RssPollerOptions {
  everyMs: number;
  /** On the very first poll, also import items this much older than now. */
  backfillMs?: number;
  userAgent?: string;
}

/**
 * What a feed's poller remembers between polls. Besides the HTTP validators and the newest date
 * seen, it keeps what the first poll decided was old, so the second poll does not take it for new:
 * `notBefore` (nothing published earlier is recorded, until the late-item window has moved past it)
 * and `oldUndated` (items without a date that were already in the feed; they have no date to
 * compare, so they are known by id while they stay in the feed).
 */
const cursorSchema = z.object({
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  since: z.iso.datetime(),
  notBefore: z.iso.datetime().optional(),
  oldUndated: z.array(z.string()).optional(),
});

type FeedCursor = z.output<typeof cursorSchema>;

/** Reads one RSS 2.0 or Atom feed on a schedule; each new item becomes a case. */
export function rssPoller(feed: RssFeed, opts: RssPollerOptions): Poller {
  return {
    key: rssSourceKey(feed),
    label: `feed ${feed.name}`,
    everyMs: opts.everyMs,
    poll: (ctx) => pollFeed(feed, opts, ctx),
  };
}

async function pollFeed(feed: RssFeed, opts: RssPollerOptions, ctx: PollContext): Promise<PollOutcome> {
  const now = ctx.clock.now();
  const log = ctx.logger.child({ feed: feed.name });
  const previous = readCursor(ctx.cursor, log);
  const fetched = await fetchFeed(feed, {
    validators: previous ?? {},
    userAgent: opts.userAgent ?? DEFAULT_USER_AGENT,
    now,
    rateLimitFallbackMs: opts.everyMs,
  });
  if (fetched.kind === 'not_modified') return { kind: 'ok', cursor: ctx.cursor, stored: 0 };
  if (fetched.kind !== 'fetched') return fetched;

  const parsed = await parseFeed(fetched.xml);
  if (!parsed.ok) {
    return {
      kind: 'failed',
      reason: `feed "${feed.name}" is not a valid RSS or Atom feed (${parsed.detail})`,
    };
  }
  const items = parsed.items;

  const first = previous === undefined;
  // The first poll takes only what is new: nothing older than now, or than the backfill.
  const start = now.getTime() - (opts.backfillMs ?? 0);
  const notBefore = previous ? msOf(previous.notBefore) : start;
  const since = previous ? Date.parse(previous.since) : start;
  const from = Math.max(notBefore ?? Number.NEGATIVE_INFINITY, since - LATE_ITEMS);
  const oldUndated = new Set(previous?.oldUndated);

  const fresh: Array<{ message: InboundMessage; index: number }> = [];
  const undatedNow: string[] = [];
  let newest = since;
  items.forEach((item, index) => {
    const at = publishedAt(item)?.getTime();
    const id = feedItemId(item);
    if (at !== undefined) {
      // A date in the future is a wrong clock on the site; it must not carry the cursor ahead.
      newest = Math.max(newest, Math.min(at, now.getTime()));
      if (at <= from) return;
    } else if (id) {
      undatedNow.push(id);
      // Undated items already there on the first poll are old; later ones are new.
      if (first || oldUndated.has(id)) return;
    }
    const normalized = normalizeFeedItem(item, feed, now);
    if (!normalized.ok) {
      log.debug({ id, reason: normalized.reason }, 'feed item skipped');
      return;
    }
    fresh.push({ message: normalized.message, index });
  });

  // Oldest first, so cases open in the order people posted; feeds list newest first, so ties go
  // by position from the bottom.
  fresh.sort((a, b) => a.message.sentAt.getTime() - b.message.sentAt.getTime() || b.index - a.index);
  const backfilling = first && Boolean(opts.backfillMs);
  let stored = 0;
  for (const { message } of fresh) {
    const recorded = await ctx.record(message);
    if (recorded.duplicate) continue;
    stored += 1;
    if (backfilling && stored % BACKFILL_PROGRESS_EVERY === 0)
      log.info({ stored }, `backfill: ${stored} stored`);
  }
  if (backfilling) log.info({ stored, of: fresh.length }, `backfill: ${stored} stored, done`);

  const keepOld = first ? undatedNow : undatedNow.filter((id) => oldUndated.has(id));
  const next: FeedCursor = {
    etag: fetched.validators.etag,
    lastModified: fetched.validators.lastModified,
    since: new Date(newest).toISOString(),
    // Dropped once the late-item window no longer reaches back before it.
    notBefore:
      notBefore !== undefined && notBefore > newest - LATE_ITEMS
        ? new Date(notBefore).toISOString()
        : undefined,
    oldUndated: keepOld.length > 0 ? keepOld : undefined,
  };
  return { kind: 'ok', cursor: JSON.stringify(next), stored };
}

function readCursor(cursor: string | undefined, log: Logger): FeedCursor | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(cursor));
    if (parsed.success) return parsed.data;
  } catch {
    // Not JSON: handled below like any other unreadable cursor.
  }
  log.warn('the stored cursor of the feed is unreadable; reading the feed as if for the first time');
  return undefined;
}

const msOf = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);
