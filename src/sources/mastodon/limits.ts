import { type Duration, minutes, seconds } from '../../care/clock.js';

/** How long carebot waits for an instance before treating a request as failed. */
export const MASTODON_TIMEOUT: Duration = seconds(15);

/** The largest page of `GET /api/v1/notifications` (Mastodon 4.1 and later; older ones give 30). */
export const MASTODON_PAGE_SIZE = 80;

/**
 * Pages a poll reads at most (80 × 25 = 2,000 mentions); what is left is read by the next poll, as
 * the cursor only moves past what was stored.
 */
export const MASTODON_MAX_PAGES = 25;

/** A status's length when the instance does not say (`configuration.statuses.max_characters`). */
export const MASTODON_DEFAULT_MAX_CHARACTERS = 500;

/** Any URL counts as this many characters, whatever its length (`characters_reserved_per_url`). */
export const MASTODON_URL_WEIGHT = 23;

/**
 * When a 429 names no reset. Mastodon allows 300 requests in 5 minutes per account and says when
 * the window resets in `X-RateLimit-Reset`, so a poll a minute stays far below it.
 */
export const RATE_LIMIT_FALLBACK: Duration = minutes(5);

// An http(s) URL up to whitespace, without trailing punctuation of the sentence it ends.
const URL_IN_TEXT = /\bhttps?:\/\/[^\s]*[^\s.,;:!?'")\]]/gi;
// `@user@domain` (a remote account): Mastodon counts only `@user`.
const REMOTE_MENTION = /(^|[^\w/=])@(\w+(?:[.-]+\w+)*)@[\w.-]+\w/g;

/**
 * A status's length as Mastodon counts it: characters (code points), with every URL as 23 and a
 * remote mention as its local part.
 */
export function mastodonLength(text: string): number {
  const countable = text
    .replace(URL_IN_TEXT, 'x'.repeat(MASTODON_URL_WEIGHT))
    .replace(REMOTE_MENTION, (_m, before: string, user: string) => `${before}@${user}`);
  return [...countable].length;
}

/**
 * Each configured account's instance limit, learned from `GET /api/v2/instance` at its first poll
 * or reply. The tone check reads the smallest (`limit` of the module's length rule is a getter).
 */
const learned = new Map<string, number>();

export function learnMaxCharacters(accountName: string, max: number): void {
  learned.set(accountName, max);
}

/** The smallest limit over the instances learned so far; Mastodon's default before any is known. */
export function smallestMaxCharacters(): number {
  return learned.size === 0 ? MASTODON_DEFAULT_MAX_CHARACTERS : Math.min(...learned.values());
}

export function maxCharactersOf(accountName: string): number | undefined {
  return learned.get(accountName);
}

/** Forgets what was learned (a new set of accounts at start, and tests). */
export function forgetMaxCharacters(): void {
  learned.clear();
}
