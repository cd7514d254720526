import type { webApi } from '@slack/bolt';
import { sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { slackOutbox } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { classifySlackError } from '../slack/errors.js';

/**
 * What an interrupted Slack sync attempt may have posted before it died: found by the metadata
 * carebot puts on each card and thread message, so the next attempt adopts it instead of posting
 * it twice.
 */

type WebClient = webApi.WebClient;

/** The message metadata type that marks a case's card (with the case id as payload). */
export const CARD_EVENT_TYPE = 'carebot_case';
/** The message metadata type that marks a message in a case thread (with its outbox row id as payload). */
export const THREAD_EVENT_TYPE = 'carebot_thread_message';
/** Pages of `conversations.replies` read when looking for a thread message an attempt may have posted. */
const REPLIES_PAGES = 5;

/**
 * After an interrupted attempt, looks for the card it may have posted (by the case id in the
 * message metadata) among the channel's latest messages, so a crash between Slack's answer and
 * our write does not post it twice.
 */
export async function findPostedCard(
  client: WebClient,
  logger: Logger,
  channel: string,
  caseId: number,
): Promise<string | undefined> {
  try {
    const res = await client.conversations.history({
      channel,
      include_all_metadata: true,
      limit: 200,
    });
    const found = (res.messages ?? []).find((m) => {
      const meta = (m as { metadata?: { event_type?: string; event_payload?: { case_id?: unknown } } })
        .metadata;
      return meta?.event_type === CARD_EVENT_TYPE && Number(meta.event_payload?.case_id) === caseId;
    });
    return found?.ts;
  } catch (err) {
    // Without history access the card may be posted twice after a crash; nothing is lost.
    logger.warn({ caseId, reason: classifySlackError(err).reason }, 'could not look for an earlier card');
    return undefined;
  }
}

/**
 * After an interrupted attempt, looks for the thread messages it may have posted (by the outbox
 * row id in their metadata), among the thread's messages newer than the last one recorded: the
 * same protection as for the card, for follow-ups, reminders, escalation mentions and feedback.
 * Returns outbox id → ts of what Slack has.
 */
export async function findPostedInThread(
  db: Database,
  client: WebClient,
  logger: Logger,
  caseId: number,
  channel: string,
  threadTs: string,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  // Posting is in order and each post is recorded before the next, so anything unrecorded is
  // newer than the newest recorded message (ts strings of one format compare as text).
  const [latest] = await queryRows<{ ts: string | null }>(
    db,
    sql`select max(${slackOutbox.postedTs}) as ts from ${slackOutbox}
        where ${slackOutbox.caseId} = ${caseId} and ${slackOutbox.postedTs} <> ''`,
  );
  const oldest = latest?.ts && latest.ts > threadTs ? latest.ts : threadTs;
  try {
    let cursor: string | undefined;
    for (let page = 0; page < REPLIES_PAGES; page++) {
      const res = await client.conversations.replies({
        channel,
        ts: threadTs,
        oldest,
        include_all_metadata: true,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const m of res.messages ?? []) {
        const meta = (m as { metadata?: { event_type?: string; event_payload?: { outbox_id?: unknown } } })
          .metadata;
        if (meta?.event_type === THREAD_EVENT_TYPE && m.ts)
          found.set(Number(meta.event_payload?.outbox_id), m.ts);
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) break;
    }
  } catch (err) {
    // Without history access the message may be posted twice after a crash; nothing is lost.
    logger.warn(
      { caseId, reason: classifySlackError(err).reason },
      'could not look for an earlier thread message',
    );
  }
  return found;
}
