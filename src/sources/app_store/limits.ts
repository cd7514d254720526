import { type Duration, hours, minutes, seconds } from '../../care/clock.js';

/** How long carebot waits for App Store Connect before treating a request as failed. */
export const APP_STORE_TIMEOUT: Duration = seconds(20);

/** Apple refuses tokens that live longer than 20 minutes; carebot's live 19. */
export const TOKEN_LIFETIME: Duration = minutes(19);

/** A token is signed anew this long before it expires, so no request carries a stale one. */
export const TOKEN_REFRESH_MARGIN: Duration = minutes(2);

/** The largest page `GET /v1/apps/{id}/customerReviews` gives (`limit` ≤ 200). */
export const APP_STORE_PAGE_SIZE = 200;

/**
 * A poll reads at most this many pages back before it stops (2,000 reviews): a popular app's
 * backfill may be cut there, and the log says so.
 */
export const APP_STORE_MAX_PAGES = 10;

/** Apple's limit for `responseBody`, in characters. */
export const APP_STORE_RESPONSE_MAX_LENGTH = 5970;

/**
 * When a 429 names no time to wait. App Store Connect allows a key an hourly budget (the
 * `X-Rate-Limit` header's `user-hour-lim`, 3,600 by default) and names no reset time.
 */
export const RATE_LIMIT_FALLBACK: Duration = minutes(5);

/**
 * Each poll reads back this far before the newest review it saw: a review Apple lists late (after
 * newer ones were read; its `createdDate` is when it was written) is still found. What was stored
 * already is a no-op, and nothing from before the first poll (or its backfill) is taken.
 */
export const LATE_LISTING: Duration = hours(6);
