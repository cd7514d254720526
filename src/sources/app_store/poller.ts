import { z } from 'zod';
import { formatDuration, milliseconds } from '../../care/clock.js';
import type { Logger } from '../../logger.js';
import { type PollContext, type Poller, type PollOutcome, problemOutcome } from '../types.js';
import { AppStoreClient } from './client.js';
import type { AppStoreAccount } from './config.js';
import { accessHint, errorWords } from './errors.js';
import { APP_STORE_MAX_PAGES, APP_STORE_PAGE_SIZE, LATE_LISTING } from './limits.js';
import {
  type CustomerReview,
  type NormalizeOptions,
  normalizeReview,
  reviewList,
  reviewsOf,
} from './normalize.js';

export interface AppStorePollerOptions {
  apiUrl: string;
  everyMs: number;
  /** On the very first poll, import reviews written this long ago instead of starting from now. */
  backfillMs?: number | undefined;
  priorityByRating: NormalizeOptions['priorityByRating'];
}

/**
 * Where the poller has read to: the newest review's `createdDate` (epoch ms) and the ids of the
 * reviews at that very instant, so one written in the same second is neither lost nor taken twice;
 * and `floor`, where the first poll started (its first cursor, or the start of its backfill): each
 * poll reads back {@link LATE_LISTING} before `at`, never before `floor`.
 */
const instant = z.object({ at: z.number(), ids: z.array(z.string()) });
const cursorSchema = z.object({ ...instant.shape, floor: instant.optional() });
export type AppStoreCursor = z.output<typeof cursorSchema>;

type Bound = { kind: 'newest' } | { kind: 'since'; at: number } | ({ kind: 'until' } & AppStoreCursor);

const timeOf = (review: CustomerReview) => Date.parse(review.attributes.createdDate);

/**
 * An app's new customer reviews, newest first (`sort=-createdDate`), read page by page
 * (`links.next`) back to the cursor; each becomes a case of its own. The brand's responses are a
 * different resource and never listed here, so they cannot come back as cases.
 */
export function appStorePoller(
  account: AppStoreAccount,
  options: AppStorePollerOptions,
  client: AppStoreClient = new AppStoreClient(account, options.apiUrl),
): Poller {
  const label = `App Store app ${account.appId} ("${account.name}")`;

  const read = async (
    ctx: PollContext,
    bound: Bound,
  ): Promise<
    | { ok: true; reviews: CustomerReview[]; answered: Set<string>; newest: CustomerReview[] }
    | { ok: false; outcome: PollOutcome }
  > => {
    const found: CustomerReview[] = [];
    const answered = new Set<string>();
    let newest: CustomerReview[] = [];
    let next: string | undefined =
      `/v1/apps/${account.appId}/customerReviews?sort=-createdDate&limit=${APP_STORE_PAGE_SIZE}&include=response`;
    for (let page = 1; next; page += 1) {
      const result = await client.request(ctx.clock, 'GET', next);
      if (!result.ok) return { ok: false, outcome: problemOutcome(result.problem) };
      const { status, body } = result.response;
      if (status !== 200) return { ok: false, outcome: listFailure(account, status, body) };
      const parsed = reviewList.safeParse(body);
      if (!parsed.success) {
        return {
          ok: false,
          outcome: {
            kind: 'failed',
            reason: 'App Store Connect answered with a list carebot could not read',
          },
        };
      }
      const { reviews, answered: withResponse, unreadable } = reviewsOf(parsed.data);
      if (unreadable > 0)
        ctx.logger.warn({ unreadable }, 'App Store Connect listed reviews carebot could not read; skipped');
      for (const id of withResponse) answered.add(id);
      if (page === 1 && reviews[0]) {
        const at = timeOf(reviews[0]);
        newest = reviews.filter((r) => timeOf(r) === at);
      }
      if (bound.kind === 'newest') break;
      const reached = reviews.findIndex((r) =>
        bound.kind === 'until'
          ? timeOf(r) < bound.at || (timeOf(r) === bound.at && bound.ids.includes(r.id))
          : timeOf(r) < bound.at,
      );
      found.push(...(reached === -1 ? reviews : reviews.slice(0, reached)));
      next = reached === -1 ? (parsed.data.links?.next ?? undefined) : undefined;
      if (next && page === APP_STORE_MAX_PAGES) {
        ctx.logger.warn(
          { read: found.length },
          `read ${APP_STORE_MAX_PAGES} pages of reviews without reaching the last one seen; older ones are left out`,
        );
        break;
      }
    }
    return { ok: true, reviews: found, answered, newest };
  };

  return {
    key: `app_store:${account.appId}:reviews`,
    label,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      const now = ctx.clock.now().getTime();
      const cursor = readCursor(ctx.cursor, ctx.logger);
      const backfill = !cursor && Boolean(options.backfillMs);
      if (!cursor && !backfill) {
        ctx.logger.info(
          'first poll: reading new reviews from now on (set sources.app_store.backfill to import older ones)',
        );
      }
      if (backfill) {
        ctx.logger.info(
          `backfill: importing reviews of the last ${formatDuration(milliseconds(options.backfillMs ?? 0))}`,
        );
      }
      const bound: Bound = cursor
        ? lateListingBound(cursor)
        : backfill
          ? { kind: 'since', at: now - (options.backfillMs ?? 0) }
          : { kind: 'newest' };
      const result = await read(ctx, bound);
      if (!result.ok) return result.outcome;

      let stored = 0;
      // Oldest first, so the cases open in the order the reviews were written.
      for (const review of [...result.reviews].reverse()) {
        const recorded = await ctx.record(
          normalizeReview(account, review, {
            priorityByRating: options.priorityByRating,
            answered: result.answered.has(review.id),
          }),
        );
        if (!recorded.duplicate) stored += 1;
      }
      if (backfill) ctx.logger.info({ stored }, `backfill: ${stored} stored`);
      const seen = nextCursor(cursor, result.newest, now);
      const floor =
        cursor?.floor ??
        (cursor
          ? { at: cursor.at, ids: cursor.ids }
          : backfill
            ? { at: now - (options.backfillMs ?? 0), ids: [] }
            : firstFloor(seen, now));
      const next = { at: seen.at, ids: seen.ids, floor };
      const text = JSON.stringify(next);
      // Unchanged: undefined keeps the stored cursor.
      return { kind: 'ok', cursor: text === ctx.cursor ? undefined : text, stored };
    },
  };
}

/** Without backfill, the first poll takes nothing written before it (to the second). */
function firstFloor(seen: { at: number; ids: string[] }, now: number): { at: number; ids: string[] } {
  const second = Math.floor(now / 1000) * 1000;
  return seen.at >= second ? seen : { at: second, ids: [] };
}

/**
 * Where a poll reads back to: {@link LATE_LISTING} before the newest review seen (what is stored
 * already is a no-op), but never before the floor, whose reviews at that instant were there before
 * the first poll and are not taken.
 */
function lateListingBound(cursor: AppStoreCursor): Bound {
  const floor = cursor.floor ?? { at: cursor.at, ids: cursor.ids };
  const back = cursor.at - LATE_LISTING;
  if (back <= floor.at)
    return { kind: 'until', at: floor.at, ids: floor.at === cursor.at ? cursor.ids : floor.ids };
  return { kind: 'until', at: back, ids: [] };
}

/**
 * The newest instant seen and its reviews' ids; before any review, the second of the first poll
 * (Apple's `createdDate` has whole seconds: a review later in that second is still taken).
 */
function nextCursor(
  cursor: AppStoreCursor | undefined,
  newest: CustomerReview[],
  now: number,
): AppStoreCursor {
  const first = newest[0];
  if (!first) return cursor ?? { at: Math.floor(now / 1000) * 1000, ids: [] };
  const at = timeOf(first);
  if (cursor && at < cursor.at) return cursor;
  const ids = newest.map((r) => r.id);
  if (cursor && at === cursor.at) return { at, ids: [...new Set([...cursor.ids, ...ids])].sort() };
  return { at, ids: ids.sort() };
}

/** A list Apple will not give: an unknown app needs a person, an error may pass. */
function listFailure(account: AppStoreAccount, status: number, body: unknown): PollOutcome {
  if (status === 404) {
    return {
      kind: 'auth_failed',
      reason: `App Store Connect has no app ${account.appId} for this API key: ${errorWords(body, status)}`,
      hint: accessHint(account),
    };
  }
  if (status >= 500) return { kind: 'failed', reason: `App Store Connect had an error (HTTP ${status})` };
  return {
    kind: 'failed',
    reason: `App Store Connect refused to list the reviews: ${errorWords(body, status)}`,
  };
}

function readCursor(text: string | undefined, logger: Logger): AppStoreCursor | undefined {
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
