import twitter from 'twitter-text';
import { type Duration, hours, minutes } from '../../care/clock.js';

/** A post's maximum length, in X's weighted counting (most CJK characters and emoji count 2, links 23). */
export const X_MAX_WEIGHTED_LENGTH = 280;

/** A direct message's maximum length, in characters. */
export const X_DM_MAX_LENGTH = 10_000;

/** A post's length as X counts it. */
export function xLength(text: string): number {
  return twitter.parseTweet(text).weightedLength;
}

/** Recent search reaches back seven days and takes a query of at most 512 characters. */
export const X_SEARCH_WINDOW: Duration = hours(7 * 24);
export const X_SEARCH_QUERY_MAX_LENGTH = 512;

/** `max_results` bounds: mentions take 5 to 100, recent search 10 to 100. */
export const X_PAGE_SIZE = 100;
export const X_SMALLEST_PAGE = 10;

/**
 * Per-user limits of the endpoints carebot calls, per 15 minutes, as X publishes them for OAuth 1.0a
 * user context. They differ by plan and change; carebot goes by each answer's `x-rate-limit-*`
 * headers and waits for `x-rate-limit-reset` on a 429, so these are for planning `poll_every`:
 * one poll is one request a page, so even a 1-minute interval stays far below them.
 */
export const X_RATE_LIMITS = {
  window: minutes(15),
  mentionsPerUser: 300,
  searchRecentPerUser: 300,
  postTweetPerUser: 100,
  sendDmPerUser: 200,
} as const;
