import { formatDuration, milliseconds } from '../../care/clock.js';
import type { SourceDeps } from '../types.js';
import { type PollContext, type Poller, type PollOutcome, problemOutcome } from '../types.js';
import { learnInstanceLimit, verifyCredentials } from './account.js';
import { MastodonClient } from './client.js';
import type { MastodonAccount } from './config.js';
import { MASTODON_MAX_PAGES, MASTODON_PAGE_SIZE, MASTODON_TIMEOUT, maxCharactersOf } from './limits.js';
import {
  conversationOf,
  type MastodonAccountEntity,
  type MastodonNotification,
  type MastodonStatus,
  mastodonNotification,
  mastodonStatus,
  normalizeStatus,
  sourceKeyOf,
} from './normalize.js';

export interface MastodonPollerOptions {
  everyMs: number;
  /** On the very first poll, import mentions this old instead of starting from now. */
  backfillMs?: number | undefined;
  /** The conversation of a status carebot holds (conversations.ts); none: threads by in_reply_to_id only. */
  conversationOf?: SourceDeps['conversationOf'] | undefined;
}

/**
 * Where the poller is: the newest notification id it has seen, or (before it saw any) the time it
 * started from, as `at:<ISO time>`.
 */
type Cursor = { kind: 'id'; id: string } | { kind: 'at'; at: Date };

type Failure = { ok: false; outcome: PollOutcome };
type Page = { ok: true; notifications: MastodonNotification[]; prevMinId?: string; nextMaxId?: string };

const BACKFILL_PROGRESS_EVERY = 100;

/**
 * One account's mentions (`GET /api/v1/notifications?types[]=mention`), public and direct. The
 * first poll reads only where the newest notification is (or back to `backfill`); later polls read
 * forward from the cursor with `min_id`, oldest page first, so a poll cut short by the page cap
 * resumes where it stopped.
 */
export function mastodonPoller(
  account: MastodonAccount,
  options: MastodonPollerOptions,
  client: MastodonClient = new MastodonClient(account, MASTODON_TIMEOUT),
): Poller {
  const sourceKey = sourceKeyOf(account);
  let me: MastodonAccountEntity | undefined;

  const fetchPage = async (ctx: PollContext, bound: Array<[string, string]>): Promise<Page | Failure> => {
    const result = await client.request(ctx.clock, 'GET', '/api/v1/notifications', {
      // include_filtered (Mastodon 4.3): the notification policy holds back, by default, private
      // mentions from accounts the brand does not follow, which are exactly customers writing privately.
      query: [
        ['types[]', 'mention'],
        ['include_filtered', 'true'],
        ['limit', String(MASTODON_PAGE_SIZE)],
        ...bound,
      ],
    });
    if (!result.ok) return { ok: false, outcome: problemOutcome(result.problem) };
    const { status, body, headers } = result.response;
    if (status !== 200 || !Array.isArray(body)) {
      return {
        ok: false,
        outcome: {
          kind: 'failed',
          reason:
            status >= 500
              ? `${client.host} had an error (HTTP ${status})`
              : `${client.host} answered the notifications request with HTTP ${status}`,
        },
      };
    }
    const notifications: MastodonNotification[] = [];
    for (const item of body) {
      const parsed = mastodonNotification.safeParse(item);
      if (parsed.success) notifications.push(parsed.data);
      else ctx.logger.warn('Mastodon listed a notification carebot could not read; skipped');
    }
    const links = parseLinks(headers.get('link'));
    return {
      ok: true,
      notifications,
      ...(links.prev?.min_id ? { prevMinId: links.prev.min_id } : {}),
      ...(links.next?.max_id ? { nextMaxId: links.next.max_id } : {}),
    };
  };

  /** Everything newer than `id`, oldest page first (`min_id` pages forward). */
  const readForward = async (ctx: PollContext, id: string) => {
    const found: MastodonNotification[] = [];
    let minId = id;
    for (let page = 1; page <= MASTODON_MAX_PAGES; page += 1) {
      const read = await fetchPage(ctx, [['min_id', minId]]);
      if (!read.ok) return read;
      if (read.notifications.length === 0) break;
      found.push(...read.notifications);
      minId = read.prevMinId ?? newestId(read.notifications) ?? minId;
      if (read.notifications.length < MASTODON_PAGE_SIZE) break;
      if (page === MASTODON_MAX_PAGES)
        ctx.logger.warn({ read: found.length }, 'many new mentions: the rest are read at the next poll');
    }
    return { ok: true as const, found };
  };

  /** The newest page, and when `since` is given, every page back to it (`max_id` pages backward). */
  const readBack = async (ctx: PollContext, since: Date | undefined) => {
    const found: MastodonNotification[] = [];
    let newest: string | undefined;
    let maxId: string | undefined;
    for (let page = 1; page <= MASTODON_MAX_PAGES; page += 1) {
      const read = await fetchPage(ctx, maxId ? [['max_id', maxId]] : []);
      if (!read.ok) return read;
      if (page === 1) newest = newestId(read.notifications);
      if (!since) break;
      const kept = read.notifications.filter((n) => Date.parse(n.created_at) >= since.getTime());
      found.push(...kept);
      maxId = read.nextMaxId ?? oldestId(read.notifications);
      if (kept.length < read.notifications.length || read.notifications.length < MASTODON_PAGE_SIZE) break;
      ctx.logger.info({ read: found.length }, `backfill: ${found.length} read`);
    }
    return { ok: true as const, found, newest };
  };

  /** Stores oldest first, so a case opens with the first mention and a follow-up finds its parent. */
  const store = async (ctx: PollContext, found: MastodonNotification[], brand: MastodonAccountEntity) => {
    const statuses = new Map<string, MastodonStatus>();
    for (const notification of found) {
      if (notification.type !== 'mention' || notification.status === undefined) continue;
      const parsed = mastodonStatus.safeParse(notification.status);
      if (!parsed.success) {
        ctx.logger.warn(
          { notification: notification.id },
          'Mastodon sent a status carebot could not read; skipped',
        );
        continue;
      }
      if (parsed.data.account.id === brand.id) {
        ctx.logger.debug({ status: parsed.data.id }, 'own status skipped');
        continue;
      }
      statuses.set(parsed.data.id, parsed.data);
    }
    let stored = 0;
    for (const status of [...statuses.values()].sort((a, b) => compareIds(a.id, b.id))) {
      const parent = status.in_reply_to_id;
      const known = parent ? await options.conversationOf?.(sourceKey, parent) : undefined;
      const recorded = await ctx.record(normalizeStatus(account, status, conversationOf(status, known)));
      if (recorded.duplicate) continue;
      stored += 1;
      if (stored % BACKFILL_PROGRESS_EVERY === 0) ctx.logger.info({ stored }, `${stored} stored`);
    }
    return stored;
  };

  return {
    key: sourceKey,
    label: `Mastodon account "${account.name}" on ${client.host}`,
    everyMs: options.everyMs,
    async poll(ctx: PollContext): Promise<PollOutcome> {
      if (!me) {
        const verified = await verifyCredentials(client, ctx.clock);
        if (!verified.ok) return problemOutcome(verified.problem);
        me = verified.me;
        ctx.logger.info({ acct: me.acct }, `Mastodon: signed in as @${me.acct} on ${client.host}`);
      }
      if (maxCharactersOf(account.name) === undefined) await learnInstanceLimit(client, ctx.clock);

      const now = ctx.clock.now();
      const cursor = readCursor(ctx.cursor, ctx.logger);
      let found: MastodonNotification[];
      let newest: string | undefined;
      if (cursor?.kind === 'id') {
        const read = await readForward(ctx, cursor.id);
        if (!read.ok) return read.outcome;
        found = read.found;
        newest = newestId(found);
      } else {
        let since = cursor?.at;
        if (!cursor && options.backfillMs) {
          since = new Date(now.getTime() - options.backfillMs);
          ctx.logger.info(
            `backfill: importing mentions of the last ${formatDuration(milliseconds(options.backfillMs))}`,
          );
        } else if (!cursor) {
          ctx.logger.info(
            'first poll: reading new mentions from now on (set sources.mastodon.backfill to import older ones)',
          );
        }
        const read = await readBack(ctx, since);
        if (!read.ok) return read.outcome;
        found = read.found;
        newest = read.newest;
      }
      const stored = await store(ctx, found, me);
      const next = newest ? newest : cursor ? undefined : `at:${now.toISOString()}`;
      const text = next === ctx.cursor ? undefined : next;
      return { kind: 'ok', cursor: text, stored };
    },
  };
}

function readCursor(text: string | undefined, logger: PollContext['logger']): Cursor | undefined {
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return { kind: 'id', id: text };
  const at = text.startsWith('at:') ? new Date(text.slice(3)) : undefined;
  if (at && Number.isFinite(at.getTime())) return { kind: 'at', at };
  logger.warn('stored cursor is unreadable; starting again as on a first poll');
  return undefined;
}

/** Mastodon's ids are decimal numbers past 2^53 that grow with time: compared as big integers. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function newestId(list: ReadonlyArray<{ id: string }>): string | undefined {
  return list.reduce<string | undefined>((m, n) => (!m || compareIds(n.id, m) > 0 ? n.id : m), undefined);
}

function oldestId(list: ReadonlyArray<{ id: string }>): string | undefined {
  return list.reduce<string | undefined>((m, n) => (!m || compareIds(n.id, m) < 0 ? n.id : m), undefined);
}

/**
 * The `Link` header's targets by rel, each as its query parameters:
 * `<https://i.example/api/v1/notifications?max_id=1>; rel="next", <…?min_id=9>; rel="prev"`.
 */
export function parseLinks(header: string | null): Record<string, Record<string, string>> {
  const links: Record<string, Record<string, string>> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?([a-z]+)"?/i.exec(part);
    if (!match?.[1] || !match[2]) continue;
    try {
      links[match[2].toLowerCase()] = Object.fromEntries(new URL(match[1]).searchParams);
    } catch {
      // A link that is not a URL is no link.
    }
  }
  return links;
}
