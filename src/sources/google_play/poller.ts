import { z } from 'zod';
import { formatDuration, milliseconds } from '../../care/clock.js';
import type { Logger } from '../../logger.js';
import { type PollContext, type Poller, type PollOutcome, problemOutcome } from '../types.js';
import { PlayClient } from './client.js';
import type { GooglePlayAccount } from './config.js';
import { googleError } from './errors.js';
import {
  PLAY_CURSOR_MAX_REVIEWS,
  PLAY_LOOKBACK,
  PLAY_MAX_PAGES,
  PLAY_PAGE_SIZE,
  PLAY_REVIEW_WINDOW,
} from './limits.js';
import {
  normalizeReview,
  type PlayReview,
  playReview,
  reviewsList,
  sourceKeyOf,
  type UserComment,
  userCommentOf,
} from './normalize.js';

export interface GooglePlayPollerOptions {
  apiUrl: string;
  everyMs: number;
  backfillMs?: number | undefined;
}

/**
 * What a poll leaves for the next: `newest`, the latest `lastModified` seen (seconds); `floor`,
 * the time before which nothing is imported (the first poll, or the backfill's start); and `seen`,
 * each review of the last week with its rating and the version (seconds) carebot holds, so an
 * overlapping read adds nothing and an edit knows the rating it replaces.
 */
const cursorSchema = z.object({
  newest: z.number(),
  floor: z.number(),
  seen: z.record(z.string(), z.tuple([z.number(), z.number()])),
});
type PlayCursor = z.output<typeof cursorSchema>;

type Version = { review: PlayReview; comment: UserComment };

/** Reads one app's reviews (`reviews.list`), newest first as Google lists them. */
export function googlePlayPoller(account: GooglePlayAccount, options: GooglePlayPollerOptions): Poller {
  const client = new PlayClient(account, options.apiUrl);
  const key = sourceKeyOf(account);

  /** Pages back until a review older than `stopAt` (seconds); nothing is stored yet. */
  const read = async (
    ctx: PollContext,
    stopAt: number,
  ): Promise<{ ok: true; versions: Version[] } | { ok: false; outcome: PollOutcome }> => {
    const versions: Version[] = [];
    let token: string | undefined;
    for (let page = 1; ; page += 1) {
      const result = await client.request(ctx.clock, 'GET', '/reviews', {
        query: { maxResults: PLAY_PAGE_SIZE, token },
      });
      if (!result.ok) return { ok: false, outcome: problemOutcome(result.problem) };
      const { status, body } = result.response;
      if (status !== 200) return { ok: false, outcome: listFailure(account, status, body) };
      const parsed = reviewsList.safeParse(body);
      if (!parsed.success) {
        return {
          ok: false,
          outcome: {
            kind: 'failed',
            reason: 'Google Play answered with a review list carebot could not read',
          },
        };
      }
      let unreadable = 0;
      let oldest = Number.POSITIVE_INFINITY;
      for (const raw of parsed.data.reviews) {
        const review = playReview.safeParse(raw);
        const comment = review.success ? userCommentOf(review.data) : undefined;
        if (!review.success || !comment) {
          unreadable += 1;
          continue;
        }
        versions.push({ review: review.data, comment });
        oldest = Math.min(oldest, comment.lastModified.seconds);
      }
      if (unreadable > 0) {
        ctx.logger.warn({ unreadable }, 'Google Play listed reviews carebot could not read; skipped');
      }
      token = parsed.data.tokenPagination?.nextPageToken || undefined;
      if (!token || oldest < stopAt) break;
      if (page === PLAY_MAX_PAGES) {
        ctx.logger.warn(
          { read: versions.length },
          'more changed reviews than carebot reads in one poll; older ones may be missing',
        );
        break;
      }
    }
    return { ok: true, versions };
  };

  return {
    key,
    label: `Google Play app ${account.packageName}`,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      const nowSeconds = Math.floor(ctx.clock.now().getTime() / 1000);
      const cursor = readCursor(ctx.cursor, ctx.logger);
      const backfillSeconds = Math.floor((options.backfillMs ?? 0) / 1000);
      if (!cursor) {
        ctx.logger.info(
          backfillSeconds > 0
            ? `first poll: importing reviews of the last ${formatDuration(milliseconds(backfillSeconds * 1000))}`
            : 'first poll: reading new reviews from now on (set sources.google_play.backfill to import older ones)',
        );
      }
      const floor = cursor?.floor ?? nowSeconds - backfillSeconds;
      // A first poll reads the whole week, to learn each review's rating for later edits.
      const stopAt = cursor ? Math.max(floor, cursor.newest - PLAY_LOOKBACK / 1000) : 0;
      const listed = await read(ctx, stopAt);
      if (!listed.ok) return listed.outcome;

      const seen = { ...(cursor?.seen ?? {}) };
      const fresh = listed.versions
        .filter(({ review, comment }) => {
          const held = seen[review.reviewId];
          return comment.lastModified.seconds >= floor && (!held || held[1] < comment.lastModified.seconds);
        })
        .sort((a, b) => a.comment.lastModified.seconds - b.comment.lastModified.seconds);

      let stored = 0;
      for (const { review, comment } of fresh) {
        const previous = seen[review.reviewId]?.[0];
        const recorded = await ctx.record(normalizeReview(account, review, comment, previous));
        seen[review.reviewId] = [comment.starRating, comment.lastModified.seconds];
        if (!recorded.duplicate) stored += 1;
      }
      // Reviews from before the floor are remembered, not taken: an edit of one later is new.
      for (const { review, comment } of listed.versions) {
        const held = seen[review.reviewId];
        if (!held || held[1] < comment.lastModified.seconds)
          seen[review.reviewId] = [comment.starRating, comment.lastModified.seconds];
      }
      const newest = Math.max(
        cursor?.newest ?? floor,
        ...listed.versions.map((v) => v.comment.lastModified.seconds),
      );
      const next: PlayCursor = { newest, floor, seen: prune(seen, nowSeconds) };
      const text = JSON.stringify(next);
      return { kind: 'ok', cursor: text === ctx.cursor ? undefined : text, stored };
    },
  };
}

/** Keeps the reviews Google still lists (the last week), at most PLAY_CURSOR_MAX_REVIEWS of them. */
function prune(seen: PlayCursor['seen'], nowSeconds: number): PlayCursor['seen'] {
  const after = nowSeconds - PLAY_REVIEW_WINDOW / 1000 - 86_400;
  const kept = Object.entries(seen)
    .filter(([, [, at]]) => at >= after)
    .sort((a, b) => b[1][1] - a[1][1])
    .slice(0, PLAY_CURSOR_MAX_REVIEWS);
  return Object.fromEntries(kept);
}

/** A list Google will not give: an unknown app needs a person, an error may pass. */
function listFailure(account: GooglePlayAccount, status: number, body: unknown): PollOutcome {
  const { message } = googleError(body);
  if (status === 404) {
    return {
      kind: 'auth_failed',
      reason: `Google Play has no app ${account.packageName} for this service account (HTTP 404${message ? `: ${message}` : ''})`,
      hint: `Check the package name of the app "${account.name}" (GOOGLE_PLAY_PACKAGE_NAME or package_name under sources.google_play.accounts); carebot tries again every few minutes.`,
    };
  }
  if (status >= 500) return { kind: 'failed', reason: `Google Play had an error (HTTP ${status})` };
  return {
    kind: 'failed',
    reason: `Google Play refused to list reviews (HTTP ${status}${message ? `: ${message}` : ''})`,
  };
}

function readCursor(text: string | undefined, logger: Logger): PlayCursor | undefined {
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
