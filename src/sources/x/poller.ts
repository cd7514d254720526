import type { Logger } from '../../logger.js';
import { type PollContext, type Poller, type PollOutcome, resetFromHeaders } from '../types.js';
import { type XQuery, type XResponse, XUnreachable, xRequest } from './client.js';
import type { XAccount } from './config.js';
import { accessHint, credentialsHint, describeProblem, xProblem } from './errors.js';
import { X_PAGE_SIZE, X_SEARCH_QUERY_MAX_LENGTH, X_SEARCH_WINDOW, X_SMALLEST_PAGE } from './limits.js';
import { normalizeTweet, tweetSkipReason, type XTweet, type XUser, xTweetPage } from './normalize.js';

export interface XPollerOptions {
  /** X_API_URL, without a trailing slash. */
  apiUrl: string;
  everyMs: number;
  /** On the very first poll, import what was posted this long ago instead of starting from now. */
  backfillMs?: number | undefined;
}

/**
 * Where a poller has read to, stored by the runner as JSON: the newest post seen, or (before any
 * post was seen) the time the poller started from.
 */
export interface XCursor {
  sinceId?: string;
  startTime?: string;
}

const TWEET_FIELDS = 'created_at,conversation_id,author_id,referenced_tweets,in_reply_to_user_id';
const USER_FIELDS = 'username,name,public_metrics';
/** When X names no reset time for a 429, wait one rate-limit window. */
const RATE_LIMIT_FALLBACK_MS = 15 * 60_000;
const BACKFILL_PROGRESS_EVERY = 100;

/** Posts that @mention the account: `GET /2/users/:id/mentions`. */
export function xMentionsPoller(account: XAccount, options: XPollerOptions): Poller {
  return timelinePoller(account, options, {
    key: `x:${account.userId}:mentions`,
    label: `X account @${account.name}`,
    path: `/2/users/${account.userId}/mentions`,
    query: {},
  });
}

/**
 * Complaints that name the brand without @mentioning it: recent search for the account's keywords.
 * Undefined when the account has none.
 */
export function xSearchPoller(account: XAccount, options: XPollerOptions): Poller | undefined {
  const query = xSearchQuery(account);
  if (!query) return undefined;
  return timelinePoller(account, options, {
    key: `x:${account.userId}:search`,
    label: `X keyword search of @${account.name}`,
    path: '/2/tweets/search/recent',
    query: { query },
    window: X_SEARCH_WINDOW,
  });
}

/** Every poller an account needs: its mentions, and its keyword search when it has keywords. */
export function xPollers(account: XAccount, options: XPollerOptions): Poller[] {
  const search = xSearchPoller(account, options);
  return search ? [xMentionsPoller(account, options), search] : [xMentionsPoller(account, options)];
}

/**
 * `(refund OR "late delivery") -is:retweet -from:<id>`. Terms with anything but letters, digits and
 * `_#@$` are quoted, so a phrase stays a phrase and nothing in a keyword reads as an operator.
 */
export function xSearchQuery(account: Pick<XAccount, 'keywords' | 'userId'>): string | undefined {
  const terms = account.keywords
    .map((k) => k.replace(/"/g, ' ').replace(/\s+/g, ' ').trim())
    .filter((k) => k !== '')
    .map((k) => (/^[\p{L}\p{N}_#@$]+$/u.test(k) && !/^(OR|AND)$/i.test(k) ? k : `"${k}"`));
  if (terms.length === 0) return undefined;
  const any = terms.length === 1 ? terms[0] : `(${terms.join(' OR ')})`;
  return `${any} -is:retweet -from:${account.userId}`;
}

interface Timeline {
  key: string;
  label: string;
  path: string;
  query: XQuery;
  /** How far back the endpoint reaches (recent search: seven days). */
  window?: number;
}

type Bounds = { sinceId: string } | { startTime: Date };

/** A poll that cannot go on, and (for a 400) whether X refused the stored `since_id`. */
type Failure = { ok: false; outcome: PollOutcome; sinceIdRejected?: boolean };

interface Page {
  ok: true;
  tweets: XTweet[];
  users: XUser[];
  newestId: string | undefined;
  nextToken: string | undefined;
}

type Fetched =
  | { ok: true; tweets: XTweet[]; users: Map<string, XUser>; newestId: string | undefined }
  | Failure;

function timelinePoller(account: XAccount, options: XPollerOptions, timeline: Timeline): Poller {
  const request = async (query: XQuery): Promise<XResponse> =>
    xRequest(account, options.apiUrl, 'GET', timeline.path, {
      query: {
        ...timeline.query,
        'tweet.fields': TWEET_FIELDS,
        expansions: 'author_id',
        'user.fields': USER_FIELDS,
        ...query,
      },
    });

  /** Every page since the bounds, newest first as X sends them; nothing is stored yet. */
  const fetchSince = async (ctx: PollContext, bounds: Bounds, logProgress: boolean): Promise<Fetched> => {
    const tweets: XTweet[] = [];
    const users = new Map<string, XUser>();
    let newestId: string | undefined;
    let token: string | undefined;
    do {
      const page = await fetchPage(ctx, {
        max_results: X_PAGE_SIZE,
        ...('sinceId' in bounds
          ? { since_id: bounds.sinceId }
          : { start_time: xTime(clampToWindow(bounds.startTime, ctx.clock.now(), timeline.window)) }),
        pagination_token: token,
      });
      if (!page.ok) return page;
      tweets.push(...page.tweets);
      for (const user of page.users) users.set(user.id, user);
      newestId = newerId(newestId, page.newestId);
      token = page.nextToken;
      if (logProgress && token) ctx.logger.info({ read: tweets.length }, `backfill: ${tweets.length} read`);
    } while (token);
    return { ok: true, tweets, users, newestId };
  };

  /** Stores oldest first, so a case's messages and its Slack thread keep the customer's order. */
  const store = async (
    ctx: PollContext,
    fetched: { tweets: XTweet[]; users: Map<string, XUser> },
    backfill: boolean,
  ) => {
    const byId = new Map(fetched.tweets.map((t) => [t.id, t]));
    const oldestFirst = [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
    let stored = 0;
    for (const tweet of oldestFirst) {
      const skip = tweetSkipReason(account, tweet);
      if (skip) {
        ctx.logger.debug({ tweetId: tweet.id, skip }, 'post skipped');
        continue;
      }
      const recorded = await ctx.record(normalizeTweet(account, tweet, fetched.users, ctx.clock.now()));
      if (recorded.duplicate) continue;
      stored += 1;
      if (backfill && stored % BACKFILL_PROGRESS_EVERY === 0) {
        ctx.logger.info({ stored }, `backfill: ${stored} stored`);
      }
    }
    return stored;
  };

  return {
    key: timeline.key,
    label: timeline.label,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      const queryText = timeline.query.query;
      if (typeof queryText === 'string' && queryText.length > X_SEARCH_QUERY_MAX_LENGTH) {
        return {
          kind: 'failed',
          reason: `the keyword search of @${account.name} is ${queryText.length} characters long and X allows ${X_SEARCH_QUERY_MAX_LENGTH}: use fewer or shorter keywords`,
        };
      }
      const now = ctx.clock.now();
      const cursor = parseCursor(ctx.cursor, ctx.logger);

      if (!cursor && !options.backfillMs) {
        // First start: only what is new from here on. One small page names the newest post.
        const page = await fetchPage(ctx, { max_results: X_SMALLEST_PAGE });
        if (!page.ok) return page.outcome;
        ctx.logger.info(
          'first poll: reading new posts from now on (set sources.x.backfill to import older ones)',
        );
        const next: XCursor = page.newestId ? { sinceId: page.newestId } : { startTime: xTime(now) };
        return { kind: 'ok', cursor: JSON.stringify(next), stored: 0 };
      }

      const backfill = !cursor;
      let bounds: Bounds;
      if (cursor?.sinceId) bounds = { sinceId: cursor.sinceId };
      else if (cursor?.startTime) bounds = { startTime: new Date(cursor.startTime) };
      else {
        const since = new Date(now.getTime() - (options.backfillMs ?? 0));
        ctx.logger.info({ since: xTime(since) }, 'backfill: importing older posts');
        bounds = { startTime: since };
      }
      let fetched = await fetchSince(ctx, bounds, backfill);
      if (!fetched.ok && fetched.sinceIdRejected && timeline.window) {
        // The newest post seen is older than search reaches (the source was paused for days):
        // read all that search still holds instead of failing every minute.
        ctx.logger.warn('the last post seen is older than recent search reaches; reading its whole window');
        bounds = { startTime: new Date(now.getTime() - timeline.window) };
        fetched = await fetchSince(ctx, bounds, false);
      }
      if (!fetched.ok) return fetched.outcome;
      const stored = await store(ctx, fetched, backfill);
      if (backfill) ctx.logger.info({ stored }, `backfill: ${stored} stored`);
      // Nothing new: undefined keeps the stored cursor.
      const newest = fetched.newestId ? newerId(cursor?.sinceId, fetched.newestId) : undefined;
      const next: XCursor | undefined = newest
        ? { sinceId: newest }
        : backfill
          ? { startTime: xTime(now) }
          : undefined;
      return { kind: 'ok', cursor: next ? JSON.stringify(next) : undefined, stored };
    },
  };

  async function fetchPage(ctx: PollContext, query: XQuery): Promise<Page | Failure> {
    let res: XResponse;
    try {
      res = await request(query);
    } catch (err) {
      if (err instanceof XUnreachable) return { ok: false, outcome: { kind: 'failed', reason: err.message } };
      throw err;
    }
    if (res.status !== 200) return pollFailure(account, res, ctx.clock.now());
    const parsed = xTweetPage.safeParse(res.body);
    if (!parsed.success) {
      return {
        ok: false,
        outcome: { kind: 'failed', reason: 'X answered with a page carebot could not read' },
      };
    }
    const page = parsed.data;
    // A 200 with only `errors` (e.g. the account was not found) is a failure too.
    if (!page.data && !page.meta) {
      return {
        ok: false,
        outcome: {
          kind: 'failed',
          reason: `X answered without posts: ${describeProblem(xProblem(res.body), 200)}`,
        },
      };
    }
    const tweets = page.data ?? [];
    return {
      ok: true,
      tweets,
      users: page.includes?.users ?? [],
      newestId: page.meta?.newest_id ?? tweets.map((t) => t.id).reduce(newerId, undefined),
      nextToken: page.meta?.next_token,
    };
  }
}

function pollFailure(account: XAccount, res: XResponse, now: Date): Failure {
  const problem = xProblem(res.body);
  const detail = describeProblem(problem, res.status);
  if (res.status === 429) {
    return {
      ok: false,
      outcome: { kind: 'rate_limited', retryAt: resetFromHeaders(res.headers, RATE_LIMIT_FALLBACK_MS, now) },
    };
  }
  if (res.status === 401) {
    return {
      ok: false,
      outcome: {
        kind: 'auth_failed',
        reason: `X rejected carebot's credentials for @${account.name} (HTTP 401: ${detail})`,
        hint: credentialsHint(account),
      },
    };
  }
  // A refused read never passes by itself: the app's access, permissions or the account need a person.
  if (res.status === 403) {
    return {
      ok: false,
      outcome: {
        kind: 'auth_failed',
        reason: `X refused @${account.name} access (HTTP 403: ${detail})`,
        hint: accessHint(account, problem),
      },
    };
  }
  if (res.status >= 500) {
    return {
      ok: false,
      outcome: { kind: 'failed', reason: `X had an error (HTTP ${res.status}: ${detail})` },
    };
  }
  return {
    ok: false,
    outcome: { kind: 'failed', reason: `X refused the request (HTTP ${res.status}: ${detail})` },
    sinceIdRejected: res.status === 400 && /since_id/i.test(JSON.stringify(res.body)),
  };
}

function parseCursor(text: string | undefined, logger: Logger): XCursor | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as XCursor;
    const sinceId =
      typeof value.sinceId === 'string' && /^\d+$/.test(value.sinceId) ? value.sinceId : undefined;
    const startTime =
      typeof value.startTime === 'string' && !Number.isNaN(Date.parse(value.startTime))
        ? value.startTime
        : undefined;
    if (sinceId) return { sinceId };
    if (startTime) return { startTime };
  } catch {
    // Reported below.
  }
  logger.warn('stored cursor is unreadable; starting again as on a first poll');
  return undefined;
}

/** Recent search refuses a start time beyond its window; a minute's margin covers clock skew. */
function clampToWindow(startTime: Date, now: Date, window: number | undefined): Date {
  if (!window) return startTime;
  const earliest = now.getTime() - window + 60_000;
  return startTime.getTime() < earliest ? new Date(earliest) : startTime;
}

/** X takes RFC 3339 times to the second. */
function xTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Orders snowflake ids without turning them into numbers: a longer id is newer. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function newerId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareIds(a, b) >= 0 ? a : b;
}
