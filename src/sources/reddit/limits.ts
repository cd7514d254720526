import { type Duration, minutes, seconds } from '../../care/clock.js';

/** How long carebot waits for Reddit before treating a request as failed. */
export const REDDIT_TIMEOUT: Duration = seconds(15);

/** A token is renewed this long before Reddit's `expires_in` runs out, so no request carries a stale one. */
export const TOKEN_REFRESH_MARGIN: Duration = seconds(60);

/** Reddit's largest listing page. */
export const REDDIT_PAGE_SIZE = 100;

/**
 * Reddit serves at most about 1,000 items of a listing, i.e. ten pages of 100; a poll that finds
 * nothing it has seen within them stops there rather than asking for pages that never come.
 */
export const REDDIT_MAX_PAGES = 10;

/** A comment's maximum length, in characters (Reddit's TOO_LONG refusal names the same 10,000). */
export const REDDIT_COMMENT_MAX_LENGTH = 10_000;

/**
 * When a 429 names no reset, wait this long. Reddit allows an OAuth client 100 requests a minute
 * (averaged over ten minutes) and says where it stands in each answer's `x-ratelimit-*` headers, so
 * a few pollers at the default two minutes stay far below it.
 */
export const RATE_LIMIT_FALLBACK: Duration = minutes(1);
