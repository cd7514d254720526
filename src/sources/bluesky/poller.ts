import type { AppBskyNotificationListNotifications } from '@atproto/api';
import { z } from 'zod';
import { formatDuration, hours, milliseconds } from '../../care/clock.js';
import type { Logger } from '../../logger.js';
import { type PollContext, type Poller, type PollOutcome, problemOutcome } from '../types.js';
import { BlueskyClient, type BlueskyProblem } from './client.js';
import type { BlueskyAccount } from './config.js';
import { BLUESKY_BATCH, BLUESKY_MAX_PAGES, BLUESKY_PAGE_SIZE } from './limits.js';
import { type BlueskyPost, CASE_REASONS, normalizePost, readPost } from './normalize.js';

export interface BlueskyPollerOptions {
  serviceUrl: string;
  everyMs: number;
  /** On the very first poll, import what came in this long ago instead of starting from now. */
  backfillMs?: number | undefined;
}

/**
 * Where a stream was read to: the newest `indexedAt` seen (or, before anything was seen, the time of
 * the first poll). A poll reads back to it, that moment included, so posts indexed in the same
 * millisecond are not lost; the ones already stored come back as duplicates and are skipped.
 */
const cursorSchema = z.record(z.string(), z.string());
type Cursor = z.output<typeof cursorSchema>;
type Bound = { kind: 'newest' } | { kind: 'since'; at: number };
type Failure = { ok: false; outcome: PollOutcome };
const SINCE_MARGIN = hours(1);
type Page = { posts: BlueskyPost[]; times: number[]; next: string | undefined };

/** The account's pollers: its notifications, and (with keywords) a search of all posts. */
export function blueskyPollers(
  account: BlueskyAccount,
  options: BlueskyPollerOptions,
  client: BlueskyClient,
): Poller[] {
  return [
    blueskyNotificationsPoller(account, options, client),
    ...(account.keywords.length ? [blueskySearchPoller(account, options, client)] : []),
  ];
}

/** Mentions of, replies to and quotes of the account (`app.bsky.notification.listNotifications`). */
export function blueskyNotificationsPoller(
  account: BlueskyAccount,
  options: BlueskyPollerOptions,
  client: BlueskyClient = new BlueskyClient(account, options.serviceUrl),
): Poller {
  return streamPoller(account, options, client, {
    key: `bluesky:${account.identifier.toLowerCase()}:notifications`,
    label: `Bluesky account @${account.identifier}`,
    what: `mentions of, replies and quotes to @${account.identifier}`,
    streams: [
      {
        name: 'notifications',
        page: async (ctx, cursor) => {
          const read = await client.call(
            ctx.clock,
            (agent) => agent.app.bsky.notification.listNotifications({ limit: BLUESKY_PAGE_SIZE, cursor }),
            (body) => lenientList(body, 'notifications', looseNotification),
          );
          if (!read.ok) return read;
          return { ok: true, value: notificationPage(read.value) };
        },
      },
    ],
  });
}

/** Posts naming one of the account's keywords, anywhere on Bluesky (`app.bsky.feed.searchPosts`). */
export function blueskySearchPoller(
  account: BlueskyAccount,
  options: BlueskyPollerOptions,
  client: BlueskyClient = new BlueskyClient(account, options.serviceUrl),
): Poller {
  return streamPoller(account, options, client, {
    key: `bluesky:${account.identifier.toLowerCase()}:search`,
    label: `Bluesky keyword search of @${account.identifier}`,
    what: `posts with the keywords of @${account.identifier}`,
    streams: account.keywords.map((q) => ({
      name: `search:${q}`,
      page: async (ctx, cursor, since) => {
        const read = await client.call(
          ctx.clock,
          (agent) =>
            agent.app.bsky.feed.searchPosts({
              q,
              sort: 'latest',
              limit: BLUESKY_PAGE_SIZE,
              ...(since ? { since } : {}),
              ...(cursor ? { cursor } : {}),
            }),
          (body) => lenientList(body, 'posts', loosePost),
        );
        if (!read.ok) return read;
        const posts = read.value.posts.flatMap((p) => readPost(p) ?? []);
        return {
          ok: true,
          value: {
            posts,
            times: read.value.posts.map((p) => Date.parse(p.indexedAt)),
            next: read.value.cursor,
          },
        };
      },
    })),
  });
}

/*
 * The parts of an answer carebot reads, for one the agent's lexicon check refused: the items that
 * have them are kept, the others skipped.
 */
const author = z.looseObject({ did: z.string(), handle: z.string(), displayName: z.string().optional() });
const loosePost = z.looseObject({
  uri: z.string(),
  cid: z.string(),
  author,
  record: z.unknown(),
  indexedAt: z.string(),
});
const looseNotification = loosePost.extend({ reason: z.string() });
const looseProfile = z.looseObject({ did: z.string(), followersCount: z.number().optional() });

function lenientList<T>(body: unknown, key: string, item: z.ZodType): T | undefined {
  const page = z.looseObject({ cursor: z.string().optional(), [key]: z.array(z.unknown()) }).safeParse(body);
  if (!page.success) return undefined;
  const items = (page.data[key] as unknown[]).flatMap((i) => {
    const parsed = item.safeParse(i);
    return parsed.success ? [parsed.data] : [];
  });
  return { ...page.data, [key]: items } as T;
}

function notificationPage(data: AppBskyNotificationListNotifications.OutputSchema): Page {
  const posts = data.notifications
    .filter((n) => CASE_REASONS.has(n.reason))
    .flatMap((n) => readPost(n) ?? []);
  return { posts, times: data.notifications.map((n) => Date.parse(n.indexedAt)), next: data.cursor };
}

interface Stream {
  name: string;
  page(
    ctx: PollContext,
    cursor: string | undefined,
    since: string | undefined,
  ): Promise<{ ok: true; value: Page } | { ok: false; problem: BlueskyProblem }>;
}

interface Spec {
  key: string;
  label: string;
  what: string;
  streams: Stream[];
}

function streamPoller(
  account: BlueskyAccount,
  options: BlueskyPollerOptions,
  client: BlueskyClient,
  spec: Spec,
): Poller {
  /** One stream, newest first, back to the bound; nothing is stored yet. */
  const read = async (
    ctx: PollContext,
    stream: Stream,
    bound: Bound,
  ): Promise<{ ok: true; posts: BlueskyPost[]; newest: number | undefined } | Failure> => {
    const posts: BlueskyPost[] = [];
    let newest: number | undefined;
    let cursor: string | undefined;
    // `since` goes by the post's own time, which may be a little before Bluesky indexed it.
    const since = bound.kind === 'since' ? new Date(bound.at - SINCE_MARGIN).toISOString() : undefined;
    for (let page = 1; ; page++) {
      const got = await stream.page(ctx, cursor, since);
      if (!got.ok) return { ok: false, outcome: blueskyProblemOutcome(got.problem) };
      const { times, next } = got.value;
      for (const time of times)
        if (Number.isFinite(time) && (newest === undefined || time > newest)) newest = time;
      // First poll: only where to start. What is there now stays out (so its moment does too).
      if (bound.kind === 'newest')
        return { ok: true, posts, newest: newest === undefined ? undefined : newest + 1 };
      posts.push(...got.value.posts.filter((p) => Date.parse(p.indexedAt) >= bound.at));
      const reachedBound = times.some((t) => t < bound.at);
      if (reachedBound || !next || times.length === 0) break;
      if (page >= BLUESKY_MAX_PAGES) {
        ctx.logger.warn(
          { stream: stream.name, pages: page },
          'Bluesky: stopped reading back after the page limit',
        );
        break;
      }
      cursor = next;
    }
    return { ok: true, posts, newest };
  };

  return {
    key: spec.key,
    label: spec.label,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      const now = ctx.clock.now().getTime();
      const session = await client.session(ctx.clock);
      if (!session.ok) return blueskyProblemOutcome(session.problem);
      const cursor = readCursor(ctx.cursor, ctx.logger);
      const backfill = !cursor && Boolean(options.backfillMs);
      if (!cursor && !backfill) {
        ctx.logger.info(
          `first poll: reading new ${spec.what} from now on (set sources.bluesky.backfill to import older ones)`,
        );
      }
      if (backfill) {
        ctx.logger.info(
          `backfill: importing ${spec.what} of the last ${formatDuration(milliseconds(options.backfillMs ?? 0))}`,
        );
      }
      const next: Cursor = {};
      const found = new Map<string, BlueskyPost>();
      for (const stream of spec.streams) {
        const from = cursor?.[stream.name];
        const bound: Bound = from
          ? { kind: 'since', at: Date.parse(from) }
          : backfill
            ? { kind: 'since', at: now - (options.backfillMs ?? 0) }
            : { kind: 'newest' };
        const got = await read(ctx, stream, bound);
        if (!got.ok) return got.outcome;
        next[stream.name] =
          got.newest !== undefined
            ? new Date(got.newest).toISOString()
            : (from ?? new Date(now).toISOString());
        for (const post of got.posts) {
          // A mention that is also a reply comes once; the notification's reason wins over a search hit.
          if (!found.has(post.uri) || post.reason) found.set(post.uri, post);
        }
      }
      const stored = await store(ctx, session.value.did, [...found.values()]);
      if (backfill) ctx.logger.info({ stored }, `backfill: ${stored} stored`);
      const text = JSON.stringify(next);
      return { kind: 'ok', cursor: text === ctx.cursor ? undefined : text, stored };
    },
  };

  /** Stores oldest first, so a case opens with the first post and its thread keeps the customer's order. */
  async function store(ctx: PollContext, ownDid: string, posts: BlueskyPost[]): Promise<number> {
    const theirs = posts.filter((p) => {
      // The account's own posts (its replies in a thread, a quote of itself) never become cases.
      if (p.author.did === ownDid) ctx.logger.debug({ uri: p.uri }, 'bluesky: own post skipped');
      return p.author.did !== ownDid;
    });
    theirs.sort((a, b) => Date.parse(a.indexedAt) - Date.parse(b.indexedAt) || (a.uri < b.uri ? -1 : 1));
    const followers = await followersOf(ctx, [...new Set(theirs.map((p) => p.author.did))]);
    let stored = 0;
    for (const post of theirs) {
      const recorded = await ctx.record(normalizePost(account, post, followers.get(post.author.did)));
      if (!recorded.duplicate) stored += 1;
    }
    return stored;
  }

  /** Followers of each author (`app.bsky.actor.getProfiles`, 25 a call); a failure only leaves them out. */
  async function followersOf(ctx: PollContext, dids: string[]): Promise<Map<string, number>> {
    const followers = new Map<string, number>();
    for (let i = 0; i < dids.length; i += BLUESKY_BATCH) {
      const actors = dids.slice(i, i + BLUESKY_BATCH);
      const got = await client.call(
        ctx.clock,
        (agent) => agent.app.bsky.actor.getProfiles({ actors }),
        (body) => lenientList(body, 'profiles', looseProfile),
      );
      if (!got.ok) {
        ctx.logger.warn(
          { problem: got.problem.kind },
          'Bluesky: could not read follower counts; cases open without them',
        );
        continue;
      }
      for (const profile of got.value.profiles) {
        if (typeof profile.followersCount === 'number') followers.set(profile.did, profile.followersCount);
      }
    }
    return followers;
  }
}

export function blueskyProblemOutcome(problem: BlueskyProblem): PollOutcome {
  if (problem.kind === 'refused')
    return { kind: 'failed', reason: `Bluesky refused the request (${problem.error}: ${problem.message})` };
  return problemOutcome(problem);
}

function readCursor(text: string | undefined, logger: Logger): Cursor | undefined {
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
