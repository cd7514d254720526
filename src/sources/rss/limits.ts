import { type Duration, seconds } from '../../care/clock.js';

/**
 * Feeds are read, never written to, so the limits are about reading: how long a feed may take to
 * answer and how much of it carebot is willing to hold in memory.
 */

/** A feed that has not answered by then is tried again at the next interval. */
export const FETCH_TIMEOUT: Duration = seconds(15);

/** Larger bodies are refused before parsing: real feeds are a few hundred KiB at most. */
export const MAX_FEED_BYTES = 5 * 1024 * 1024;

/** Redirects followed for one feed (to http(s) URLs only); one more is a failure. */
export const MAX_FEED_REDIRECTS = 3;

/** The longest text a feed item becomes in a case; longer posts are cut, the link has the rest. */
export const MAX_ITEM_TEXT = 4000;
