import type { CheckDeps, CheckLine } from '../types.js';
import type { RssFeed, RssSettings } from './config.js';
import { DEFAULT_USER_AGENT, fetchFeed, parseFeed } from './fetch-feed.js';

/** Each feed is fetched and parsed as RSS or Atom. Lines name the feed, never its URL (it may hold a token). */
export async function checkFeeds(settings: RssSettings, deps: CheckDeps): Promise<CheckLine[]> {
  return Promise.all(settings.feeds.map((feed) => checkFeed(feed, deps)));
}

async function checkFeed(feed: RssFeed, deps: CheckDeps): Promise<CheckLine> {
  const what = `RSS feed "${feed.name}"`;
  const fix = `check url of the feed "${feed.name}" under sources.rss.feeds: open it in a browser, it should show the feed's XML`;
  const fetched = await fetchFeed(feed, {
    validators: {},
    userAgent: DEFAULT_USER_AGENT,
    now: deps.clock.now(),
    rateLimitFallbackMs: 60_000,
    timeoutMs: deps.timeoutMs,
  });
  if (fetched.kind === 'not_modified') return { ok: true, what: `${what}: answers` };
  if (fetched.kind === 'auth_failed') return { ok: false, what: fetched.reason, fix: fetched.hint };
  if (fetched.kind === 'rate_limited')
    return {
      ok: false,
      what: `${what}: the site says to wait (rate limited)`,
      fix: 'run the check again later',
    };
  if (fetched.kind === 'failed') return { ok: false, what: fetched.reason, fix };
  const parsed = await parseFeed(fetched.xml);
  if (parsed.ok) return { ok: true, what: `${what}: ${parsed.items.length} item(s)` };
  return { ok: false, what: `${what} is not a valid RSS or Atom feed (${parsed.detail})`, fix };
}
