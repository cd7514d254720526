import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { cases, replies, slackNotices, slackOutbox, slackThreads } from '../db/schema.js';
import { incidentKey } from './incidents.js';

/**
 * Where cases, escalations and incidents live in Slack, as the sync job recorded them: the
 * listeners ask here to check where a click came from and to answer in the right thread.
 */

/** A case's thread (its card is the parent message), once the sync job has posted it. */
export async function caseThread(
  db: Database,
  caseId: number,
): Promise<{ channelId: string; threadTs: string } | undefined> {
  const [thread] = await db
    .select({ channelId: slackThreads.channelId, threadTs: slackThreads.threadTs })
    .from(slackThreads)
    .where(eq(slackThreads.caseId, caseId));
  return thread;
}

/** An incident's message (the parent of its thread): its channel, and its ts once posted. */
export async function incidentMessageAt(
  db: Database,
  incidentId: number,
): Promise<{ channelId: string; ts: string | null } | undefined> {
  const [notice] = await db
    .select({ channelId: slackNotices.channelId, ts: slackNotices.postedTs })
    .from(slackNotices)
    .where(eq(slackNotices.key, incidentKey(incidentId)));
  return notice;
}

/** An escalation's message in its case's thread: its channel, and its ts once posted. */
export async function escalationMessageAt(
  db: Database,
  escalationId: number,
): Promise<{ channel: string; ts: string | null } | undefined> {
  const [posted] = await db
    .select({ ts: slackOutbox.postedTs, channel: slackThreads.channelId })
    .from(slackOutbox)
    .innerJoin(slackThreads, eq(slackThreads.caseId, slackOutbox.caseId))
    .where(eq(slackOutbox.key, `escalation:${escalationId}`));
  return posted;
}

/** A reply with what its case says about where it goes (for the tone check and the notices). */
export async function replyWithCase(db: Database, replyId: number) {
  const [row] = await db
    .select({
      reply: replies,
      platform: cases.platform,
      sourceKey: cases.sourceKey,
      conversationId: cases.conversationId,
      replyMode: cases.replyMode,
    })
    .from(replies)
    .innerJoin(cases, eq(cases.id, replies.caseId))
    .where(eq(replies.id, replyId));
  return row;
}
