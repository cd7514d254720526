import { z } from 'zod';
import { formatDuration, milliseconds } from '../../care/clock.js';
import type { Logger } from '../../logger.js';
import { type PollContext, type Poller, type PollOutcome, problemOutcome } from '../types.js';
import { RedditClient, type RedditUrls } from './client.js';
import type { RedditAccount } from './config.js';
import { accountRefusedHint, subredditHint } from './errors.js';
import { REDDIT_MAX_PAGES, REDDIT_PAGE_SIZE } from './limits.js';
import {
  compareFullnames,
  normalizeThing,
  type RedditThing,
  redditListing,
  skipReason,
  thingsOf,
} from './normalize.js';

export interface RedditPollerOptions extends RedditUrls {
  everyMs: number;
  /** On the very first poll, import what was posted this long ago instead of starting from now. */
  backfillMs?: number | undefined;
}

/** One listing a poller reads, newest first, and which of its things count. */
interface Stream {
  name: 'posts' | 'comments' | 'mentions' | 'replies';
  path: string;
  query?: Record<string, string>;
  kind: 't1' | 't3';
  /** The account's keywords filter it (subreddits); the inbox is addressed to the account, so not. */
  keywords: boolean;
}

/**
 * Where each listing was read to: the newest thing seen and its time, or (before any was seen)
 * the time the poller started. A poll reads back until it meets that thing or anything older, so a
 * deleted thing cannot make it read the whole listing again.
 */
const positionSchema = z.object({ name: z.string().optional(), createdUtc: z.number() });
const cursorSchema = z.record(z.string(), positionSchema);
type Position = z.output<typeof positionSchema>;
export type RedditCursor = z.output<typeof cursorSchema>;

type Bound = { kind: 'newest' } | { kind: 'since'; createdUtc: number } | ({ kind: 'until' } & Position);
type Failure = { ok: false; outcome: PollOutcome };

const BACKFILL_PROGRESS_EVERY = 100;

/**
 * Every poller an account needs: its inbox (mentions and replies to it), and per subreddit its new
 * posts and comments. They share one sign-in and one view of the account's rate limit.
 */
export function redditPollers(account: RedditAccount, options: RedditPollerOptions): Poller[] {
  const client = new RedditClient(account, options);
  return [
    redditInboxPoller(account, options, client),
    ...account.subreddits.map((subreddit) => redditSubredditPoller(account, subreddit, options, client)),
  ];
}

/** New posts and comments in one subreddit, those with the account's keywords (all when it has none). */
export function redditSubredditPoller(
  account: RedditAccount,
  subreddit: string,
  options: RedditPollerOptions,
  client: RedditClient = new RedditClient(account, options),
): Poller {
  return listingPoller(account, options, client, {
    key: `reddit:${account.username}:r/${subreddit}`,
    label: `Reddit r/${subreddit} (u/${account.username})`,
    what: `posts and comments in r/${subreddit}`,
    subreddit,
    streams: [
      { name: 'posts', path: `/r/${subreddit}/new`, kind: 't3', keywords: true },
      { name: 'comments', path: `/r/${subreddit}/comments`, kind: 't1', keywords: true },
    ],
  });
}

/**
 * The account's username mentions, and replies to its posts and comments from the inbox (a
 * mention is in both; its fullname makes it one message). `mark=false` leaves them unread for
 * whoever also reads the inbox on Reddit.
 */
export function redditInboxPoller(
  account: RedditAccount,
  options: RedditPollerOptions,
  client: RedditClient = new RedditClient(account, options),
): Poller {
  return listingPoller(account, options, client, {
    key: `reddit:${account.username}:inbox`,
    label: `Reddit inbox of u/${account.username}`,
    what: `mentions of and replies to u/${account.username}`,
    streams: [
      { name: 'mentions', path: '/message/mentions', query: { mark: 'false' }, kind: 't1', keywords: false },
      { name: 'replies', path: '/message/inbox', query: { mark: 'false' }, kind: 't1', keywords: false },
    ],
  });
}

interface Spec {
  key: string;
  label: string;
  what: string;
  subreddit?: string;
  streams: Stream[];
}

function listingPoller(
  account: RedditAccount,
  options: RedditPollerOptions,
  client: RedditClient,
  spec: Spec,
): Poller {
  /** One stream's things since the bound, newest first as Reddit lists them; nothing is stored yet. */
  const readStream = async (
    ctx: PollContext,
    stream: Stream,
    bound: Bound,
  ): Promise<{ ok: true; things: RedditThing[]; newest: Position | undefined } | Failure> => {
    const things: RedditThing[] = [];
    let newest: Position | undefined;
    let after: string | undefined;
    for (let page = 1; ; page += 1) {
      const read = await fetchPage(ctx, stream, after);
      if (!read.ok) return read;
      const kept = read.things.filter((t) => t.kind === stream.kind);
      if (page === 1) newest = newestOf(kept);
      if (bound.kind === 'newest') break;
      const reached = kept.findIndex((t) =>
        bound.kind === 'until'
          ? t.data.name === bound.name || t.data.created_utc < bound.createdUtc
          : t.data.created_utc < bound.createdUtc,
      );
      things.push(...(reached === -1 ? kept : kept.slice(0, reached)));
      after = read.after ?? undefined;
      if (reached !== -1 || !after) break;
      if (page === REDDIT_MAX_PAGES) {
        ctx.logger.warn(
          { stream: stream.name, read: things.length },
          'more new items than Reddit lists; older ones since the last poll may be missing',
        );
        break;
      }
      if (bound.kind === 'since') ctx.logger.info({ read: things.length }, `backfill: ${things.length} read`);
    }
    return { ok: true, things, newest };
  };

  const fetchPage = async (ctx: PollContext, stream: Stream, after: string | undefined) => {
    const result = await client.request(ctx.clock, 'GET', stream.path, {
      query: { ...stream.query, limit: REDDIT_PAGE_SIZE, raw_json: 1, after },
    });
    if (!result.ok) return { ok: false as const, outcome: problemOutcome(result.problem) };
    const { status, body } = result.response;
    if (status !== 200) return { ok: false as const, outcome: listingFailure(account, spec, status) };
    const parsed = redditListing.safeParse(body);
    if (!parsed.success) {
      return {
        ok: false as const,
        outcome: { kind: 'failed' as const, reason: 'Reddit answered with a listing carebot could not read' },
      };
    }
    const { things, unreadable } = thingsOf(parsed.data.data.children);
    if (unreadable > 0) {
      ctx.logger.warn(
        { stream: stream.name, unreadable },
        'Reddit listed things carebot could not read; skipped',
      );
    }
    return { ok: true as const, things, after: parsed.data.data.after };
  };

  /** Stores oldest first, so a case opens with the post and its thread keeps the customer's order. */
  const store = async (
    ctx: PollContext,
    found: Map<string, { thing: RedditThing; keywords: boolean }>,
    backfill: boolean,
  ) => {
    const oldestFirst = [...found.values()].sort((a, b) => byAge(a.thing, b.thing));
    let stored = 0;
    for (const { thing, keywords } of oldestFirst) {
      const skip = skipReason(account, thing, keywords);
      if (skip) {
        ctx.logger.debug({ fullname: thing.data.name, skip }, 'reddit item skipped');
        continue;
      }
      const recorded = await ctx.record(normalizeThing(account, thing));
      if (recorded.duplicate) continue;
      stored += 1;
      if (backfill && stored % BACKFILL_PROGRESS_EVERY === 0) {
        ctx.logger.info({ stored }, `backfill: ${stored} stored`);
      }
    }
    return stored;
  };

  return {
    key: spec.key,
    label: spec.label,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      const now = ctx.clock.now();
      const cursor = readCursor(ctx.cursor, ctx.logger);
      const backfill = !cursor && Boolean(options.backfillMs);
      if (!cursor && !backfill) {
        ctx.logger.info(
          `first poll: reading new ${spec.what} from now on (set sources.reddit.backfill to import older ones)`,
        );
      }
      if (backfill)
        ctx.logger.info(
          `backfill: importing ${spec.what} of the last ${formatDuration(milliseconds(options.backfillMs ?? 0))}`,
        );
      const nowUtc = Math.floor(now.getTime() / 1000);

      const next: RedditCursor = {};
      const found = new Map<string, { thing: RedditThing; keywords: boolean }>();
      for (const stream of spec.streams) {
        const from = cursor?.[stream.name];
        const bound: Bound = from
          ? { kind: 'until', ...from }
          : backfill
            ? { kind: 'since', createdUtc: nowUtc - Math.floor((options.backfillMs ?? 0) / 1000) }
            : { kind: 'newest' };
        const read = await readStream(ctx, stream, bound);
        if (!read.ok) return read.outcome;
        next[stream.name] = read.newest ?? from ?? { createdUtc: nowUtc };
        for (const thing of read.things) {
          if (!found.has(thing.data.name)) found.set(thing.data.name, { thing, keywords: stream.keywords });
        }
      }
      const stored = await store(ctx, found, backfill);
      if (backfill) ctx.logger.info({ stored }, `backfill: ${stored} stored`);
      const text = JSON.stringify(next);
      // Unchanged: undefined keeps the stored cursor.
      return { kind: 'ok', cursor: text === ctx.cursor ? undefined : text, stored };
    },
  };
}

function newestOf(things: RedditThing[]): Position | undefined {
  const newest = things.reduce<RedditThing | undefined>((a, b) => (!a || byAge(b, a) > 0 ? b : a), undefined);
  return newest ? { name: newest.data.name, createdUtc: newest.data.created_utc } : undefined;
}

/** By time; within a second a post before its comments, then by id. */
function byAge(a: RedditThing, b: RedditThing): number {
  if (a.data.created_utc !== b.data.created_utc) return a.data.created_utc - b.data.created_utc;
  if (a.kind !== b.kind) return a.kind === 't3' ? -1 : 1;
  return compareFullnames(a.data.name, b.data.name);
}

/** A listing Reddit will not give: a missing or closed subreddit needs a person, an error may pass. */
function listingFailure(account: RedditAccount, spec: Spec, status: number): PollOutcome {
  const who = `u/${account.username}`;
  if (spec.subreddit && (status === 404 || (status >= 300 && status < 400))) {
    return {
      kind: 'auth_failed',
      reason: `Reddit has no readable r/${spec.subreddit} (HTTP ${status}): the name may be misspelled, or the subreddit banned or private`,
      hint: subredditHint(account, spec.subreddit),
    };
  }
  if (status === 403) {
    return spec.subreddit
      ? {
          kind: 'auth_failed',
          reason: `Reddit refused ${who} access to r/${spec.subreddit} (HTTP 403): it is private or quarantined, or the account is banned there`,
          hint: subredditHint(account, spec.subreddit),
        }
      : {
          kind: 'auth_failed',
          reason: `Reddit refused ${who} access to its inbox (HTTP 403)`,
          hint: accountRefusedHint(account),
        };
  }
  if (status >= 500) return { kind: 'failed', reason: `Reddit had an error (HTTP ${status})` };
  return { kind: 'failed', reason: `Reddit refused to list ${spec.what} (HTTP ${status})` };
}

function readCursor(text: string | undefined, logger: Logger): RedditCursor | undefined {
  if (!text) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // Reported below.
  }
  logger.warn('stored cursor is unreadable; starting again as on a first poll');
  return undefined;
}
