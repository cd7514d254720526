import type { Logger } from '../../logger.js';
import type { PollContext, Poller, PollOutcome } from '../types.js';
import { type GraphQuery, type GraphResponse, GraphUnreachable, graphRequest, isSuccess } from './client.js';
import type { FacebookPage } from './config.js';
import {
  classifyGraphFailure,
  describeGraphError,
  graphError,
  permissionHint,
  tokenHint,
  tokenProblem,
} from './errors.js';
import { FEED_COMMENTS_PER_POST, FEED_LOOKBACK, FEED_MAX_PAGES, FEED_PAGE_SIZE } from './limits.js';
import {
  commentThread,
  type FeedItem,
  feedItemFromGraph,
  type GraphPost,
  graphFeedPage,
  normalizeFeedItem,
} from './normalize.js';

export interface FacebookPollerOptions {
  /** GRAPH_API_URL, without a trailing slash. */
  apiUrl: string;
  /** The Graph API version in paths, e.g. `v21.0`. */
  apiVersion: string;
  everyMs: number;
}

/** Where the poller has read to, stored by the runner as JSON: the newest item's time, unix seconds. */
export interface FacebookFeedCursor {
  since: number;
}

/**
 * Comments with their parent, so a reply joins its thread; `filter(stream)` lists replies to
 * comments too (the default lists top-level comments only), newest first so the limit keeps the
 * newest.
 */
export const FEED_FIELDS =
  'id,message,from,created_time,permalink_url,' +
  `comments.filter(stream).order(reverse_chronological).limit(${FEED_COMMENTS_PER_POST})` +
  '{id,message,from,created_time,parent{id},permalink_url}';

/**
 * For Pages webhooks cannot reach: reads the newest posts of the Page feed (`GET /{page-id}/feed`)
 * with their newest comments, and stores visitor posts and comments newer than the cursor. The
 * Page's own posts and comments never become cases. Comments on posts beyond the newest few pages
 * are left to webhooks.
 */
export function facebookFeedPoller(page: FacebookPage, options: FacebookPollerOptions): Poller {
  return {
    key: `facebook:${page.pageId}:feed`,
    label: `Facebook Page ${page.name}`,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      const nowSeconds = Math.floor(ctx.clock.now().getTime() / 1000);
      const cursor = parseCursor(ctx.cursor, ctx.logger);
      if (!cursor) {
        // First start: only what is new from here on. One page checks that the token works.
        const first = await fetchFeed(page, options, {}, ctx.clock.now());
        if (!first.ok) return first.outcome;
        ctx.logger.info(
          `first poll of the Facebook Page ${page.name}: reading new posts and comments from now on`,
        );
        return { kind: 'ok', cursor: JSON.stringify({ since: nowSeconds }), stored: 0 };
      }

      const from = cursor.since - FEED_LOOKBACK / 1000;
      const found: Array<{ item: FeedItem; conversationId: string }> = [];
      let newest = cursor.since;
      let query: GraphQuery = {};
      for (let n = 0; n < FEED_MAX_PAGES; n += 1) {
        const fetched = await fetchFeed(page, options, query, ctx.clock.now());
        if (!fetched.ok) return fetched.outcome;
        for (const post of fetched.posts) found.push(...newItems(page, post, from, ctx.clock.now()));
        const oldest = fetched.posts.at(-1);
        // Posts come newest first: once one is older than the cursor, later pages hold only old posts.
        if (!fetched.next || !oldest || seconds(feedItemFromGraph(oldest, ctx.clock.now())) < from) break;
        query = fetched.next;
      }

      let stored = 0;
      for (const { item, conversationId } of found.sort(
        (a, b) => a.item.sentAt.getTime() - b.item.sentAt.getTime(),
      )) {
        newest = Math.max(newest, seconds(item));
        const recorded = await ctx.record(normalizeFeedItem(page, item, conversationId));
        if (!recorded.duplicate) stored += 1;
      }
      // The cursor never passes "now": a post dated ahead by clock skew must not hide later ones.
      const since = Math.min(newest, Math.max(cursor.since, nowSeconds));
      return { kind: 'ok', cursor: since === cursor.since ? undefined : JSON.stringify({ since }), stored };
    },
  };
}

const seconds = (item: FeedItem) => Math.floor(item.sentAt.getTime() / 1000);

/**
 * A post's items at or after `from`: a visitor post is its own conversation, and comments under it
 * join it; comments under the Page's own posts are a conversation per thread (see normalize.ts).
 */
function newItems(
  page: FacebookPage,
  post: GraphPost,
  from: number,
  receivedAt: Date,
): Array<{ item: FeedItem; conversationId: string }> {
  const out: Array<{ item: FeedItem; conversationId: string }> = [];
  const visitorPost = post.from !== undefined && post.from.id !== page.pageId;
  const postItem = feedItemFromGraph(post, receivedAt);
  if (visitorPost && seconds(postItem) >= from) out.push({ item: postItem, conversationId: post.id });
  // Graph lists comments newest first; oldest first keeps a thread's order when times tie.
  for (const comment of [...(post.comments?.data ?? [])].reverse()) {
    if (comment.from?.id === page.pageId) continue;
    const item = feedItemFromGraph(comment, receivedAt);
    if (seconds(item) < from) continue;
    const conversationId = visitorPost ? post.id : commentThread(comment.id, post.id, comment.parent?.id);
    out.push({ item, conversationId });
  }
  return out;
}

type Fetched =
  | { ok: true; posts: GraphPost[]; next: GraphQuery | undefined }
  | { ok: false; outcome: PollOutcome };

async function fetchFeed(
  page: FacebookPage,
  options: FacebookPollerOptions,
  paging: GraphQuery,
  now: Date,
): Promise<Fetched> {
  let res: GraphResponse;
  try {
    res = await graphRequest(page, options.apiUrl, options.apiVersion, 'GET', `/${page.pageId}/feed`, {
      query: { fields: FEED_FIELDS, limit: FEED_PAGE_SIZE, ...paging },
    });
  } catch (err) {
    if (err instanceof GraphUnreachable)
      return { ok: false, outcome: { kind: 'failed', reason: err.message } };
    throw err;
  }
  if (!isSuccess(res)) return { ok: false, outcome: pollFailure(page, res, now) };
  const parsed = graphFeedPage.safeParse(res.body);
  if (!parsed.success) {
    return {
      ok: false,
      outcome: { kind: 'failed', reason: 'Facebook answered with a feed carebot could not read' },
    };
  }
  return { ok: true, posts: parsed.data.data, next: nextPageQuery(parsed.data.paging?.next) };
}

/**
 * The paging parameters of Graph's `next` link (`until`, `__paging_token`, `after`…). The link
 * itself carries the access token and may name another host, so it is never fetched as is.
 */
function nextPageQuery(next: string | undefined): GraphQuery | undefined {
  if (!next) return undefined;
  let url: URL;
  try {
    url = new URL(next);
  } catch {
    return undefined;
  }
  const query: GraphQuery = {};
  for (const [name, value] of url.searchParams) {
    if (!['access_token', 'appsecret_proof', 'fields', 'limit'].includes(name)) query[name] = value;
  }
  return Object.keys(query).length > 0 ? query : undefined;
}

function pollFailure(page: FacebookPage, res: GraphResponse, now: Date): PollOutcome {
  const error = graphError(res.body);
  const problem = classifyGraphFailure(res, error, now);
  const detail = describeGraphError(page, error, res.status);
  switch (problem.kind) {
    case 'token':
      return {
        kind: 'auth_failed',
        reason: `${tokenProblem(page, error)} (${detail})`,
        hint: tokenHint(page),
      };
    case 'permission':
      return {
        kind: 'auth_failed',
        reason: `Facebook refused to show the feed of the Page "${page.name}" (${detail})`,
        hint: permissionHint(page, 'pages_read_engagement and pages_read_user_content'),
      };
    case 'throttled':
      return { kind: 'rate_limited', retryAt: problem.retryAt };
    case 'server':
      return { kind: 'failed', reason: `Facebook had an error (${detail})` };
    default:
      return {
        kind: 'failed',
        reason: `Facebook refused to read the feed of the Page "${page.name}" (${detail})`,
      };
  }
}

function parseCursor(text: string | undefined, logger: Logger): FacebookFeedCursor | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<FacebookFeedCursor>;
    if (typeof value.since === 'number' && Number.isInteger(value.since) && value.since > 0) {
      return { since: value.since };
    }
  } catch {
    // Reported below.
  }
  logger.warn('stored cursor is unreadable; starting again as on a first poll');
  return undefined;
}
