import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { slackNotices } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import type { Duration } from './clock.js';

/**
 * Messages for a channel rather than a case thread (crisis alerts, the crisis-mode banner, an
 * incident and its thread), queued as Slack notices so the Slack sync posts each once, across
 * instances, and retries through 429s and outages. A message can go in the thread of an earlier
 * one (`threadKey`) or replace it (`replacesKey`: `chat.update`, e.g. an incident's status).
 */
export async function queueChannelMessage(
  db: Database | Tx,
  m: {
    key: string;
    channelId: string;
    text: string;
    blocks?: unknown[] | undefined;
    threadKey?: string | undefined;
    replacesKey?: string | undefined;
    now: Date;
  },
): Promise<boolean> {
  const [row] = await db
    .insert(slackNotices)
    .values({
      key: m.key,
      channelId: m.channelId,
      text: m.text,
      blocks: m.blocks ?? null,
      threadKey: m.threadKey ?? null,
      replacesKey: m.replacesKey ?? null,
      createdAt: m.now,
    })
    .onConflictDoNothing()
    .returning({ id: slackNotices.id });
  return Boolean(row);
}

export type NoticeTarget =
  | { kind: 'post'; channel: string; threadTs?: string | undefined }
  | { kind: 'update'; channel: string; ts: string }
  /** The message it belongs to is not in Slack yet. */
  | { kind: 'wait' };

/** Where a notice goes: a new message, a reply in another notice's thread, or an update of one. */
export async function noticeTarget(
  db: Database,
  notice: Pick<typeof slackNotices.$inferSelect, 'channelId' | 'threadKey' | 'replacesKey'>,
): Promise<NoticeTarget> {
  const parentKey = notice.replacesKey ?? notice.threadKey;
  if (!parentKey) return { kind: 'post', channel: notice.channelId };
  const [parent] = await db
    .select({ channelId: slackNotices.channelId, postedTs: slackNotices.postedTs })
    .from(slackNotices)
    .where(eq(slackNotices.key, parentKey));
  if (!parent?.postedTs) return { kind: 'wait' };
  if (notice.replacesKey) return { kind: 'update', channel: parent.channelId, ts: parent.postedTs };
  return { kind: 'post', channel: parent.channelId, threadTs: parent.postedTs };
}

/**
 * Claims one weekly digest (by channel and minute) through the channel-notice table's unique key,
 * so several carebot instances firing the same cron post it once. The notice carries the plain
 * text of the digest and is held for `holdMs`: if the poster dies before it marks the notice
 * posted, the Slack sync posts that text later, so the digest is not lost.
 */
export async function claimDigest(
  db: Database,
  digest: { key: string; channelId: string; text: string; now: Date; holdMs: Duration },
): Promise<number | undefined> {
  const [row] = await db
    .insert(slackNotices)
    .values({
      key: digest.key,
      channelId: digest.channelId,
      text: digest.text,
      createdAt: digest.now,
      nextAttemptAt: new Date(digest.now.getTime() + digest.holdMs),
    })
    .onConflictDoNothing()
    .returning({ id: slackNotices.id });
  return row ? Number(row.id) : undefined;
}
