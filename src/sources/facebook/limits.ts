import { type Duration, hours, minutes, seconds } from '../../care/clock.js';

/** When Graph throttles without saying how long for, wait this long. */
export const GRAPH_THROTTLE_FALLBACK: Duration = minutes(5);

/** Messenger allows answers this long after the customer's last message (standard messaging). */
export const MESSENGER_WINDOW: Duration = hours(24);

/** A Messenger text message's maximum length, in characters. */
export const MESSENGER_MAX_TEXT = 2000;

/** A Facebook comment's maximum length, in characters. */
export const FACEBOOK_COMMENT_MAX_TEXT = 8000;

/** An Instagram comment's maximum length, in characters. */
export const INSTAGRAM_COMMENT_MAX_TEXT = 2200;

/** The webhook answers within Meta's patience; looking up a mention's text must not hold it long. */
export const MENTION_LOOKUP_TIMEOUT: Duration = seconds(5);

/** Meta retries webhook deliveries whose body it could not hand over; carebot refuses larger ones. */
export const MAX_GRAPH_WEBHOOK_BODY = 1024 * 1024;

/**
 * The feed poller reads this many of the newest posts a page, each with its newest comments; older
 * posts' new comments come through webhooks only.
 */
export const FEED_PAGE_SIZE = 25;
export const FEED_COMMENTS_PER_POST = 50;
/** At most this many pages of posts per poll, when many posts appeared since the last one. */
export const FEED_MAX_PAGES = 4;
/**
 * Graph may list a comment a little after its `created_time`; items this much older than the
 * cursor are read again (storing is idempotent), so a late one is not skipped.
 */
export const FEED_LOOKBACK: Duration = minutes(2);

/** A Messenger customer's name is read once a day at most (the User Profile API). */
export const PROFILE_CACHE_MS: Duration = hours(24);
/** After a refused name lookup, the id is shown for an hour before asking again. */
export const PROFILE_REFUSED_CACHE_MS: Duration = hours(1);
/** Names remembered at most, the oldest forgotten first. */
export const PROFILE_CACHE_SIZE = 10_000;
