import { type Duration, hours, minutes, seconds } from '../../care/clock.js';

/** How long carebot waits for Google before treating a request as failed. */
export const PLAY_TIMEOUT: Duration = seconds(15);

/** An access token is renewed this long before Google's `expires_in` runs out. */
export const TOKEN_REFRESH_MARGIN: Duration = minutes(5);

/** Lifetime of the signed grant (Google refuses more than an hour). */
export const ASSERTION_LIFETIME_SECONDS = 3600;

/** The scope of the Android Publisher API. */
export const PLAY_SCOPE = 'https://www.googleapis.com/auth/androidpublisher';

/** Reviews a page of `reviews.list` (Google's largest page). */
export const PLAY_PAGE_SIZE = 100;

/** A poll reads at most this many pages (the API lists only a week of reviews anyway). */
export const PLAY_MAX_PAGES = 50;

/** `reviews.list` and `reviews.get` see only reviews created or changed within the last week. */
export const PLAY_REVIEW_WINDOW: Duration = hours(7 * 24);

/** A developer reply's maximum length, in characters (Google Play's own limit). */
export const PLAY_REPLY_MAX_LENGTH = 350;

/** When a 429 names no time to wait. Google's reviews quota is counted per day and per hour. */
export const RATE_LIMIT_FALLBACK: Duration = minutes(1);

/**
 * Each poll reads back this far before the newest review it saw, so a review that shows up in the
 * list a little after its `lastModified` is still found (the cursor's per-review record keeps it
 * from being taken twice).
 */
export const PLAY_LOOKBACK: Duration = minutes(30);

/** The cursor remembers at most this many reviews (the newest), with their rating and version. */
export const PLAY_CURSOR_MAX_REVIEWS = 20_000;
