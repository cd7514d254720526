import type { webApi } from '@slack/bolt';
import { eq } from 'drizzle-orm';
import { approvalView } from '../care/approval.js';
import { type Team, teamByKey } from '../care/teams.js';
import type { Database } from '../db/client.js';
import {
  caseEvents,
  cases,
  escalations,
  messages,
  replies,
  type slackOutbox,
  slaReminders,
} from '../db/schema.js';
import { approvalMessage } from '../slack/approval.js';
import { customerMessage, platformLabel } from '../slack/case-card.js';
import { escalationMessage } from '../slack/escalation.js';
import { failedMessage, isModalOrigin, sentMessage } from '../slack/replies.js';

/** The Slack side of a case thread's outbox rows: the message each one posts, and a reply's reaction. */

type WebClient = webApi.WebClient;

/** The thread message an outbox row stands for; undefined when there is nothing (left) to post. */
export async function renderOutboxItem(db: Database, teams: Team[], item: typeof slackOutbox.$inferSelect) {
  // A redaction or a refresh updates another row's message (jobs/slack-sync.ts); it posts nothing.
  if (item.kind === 'redact' || item.kind === 'refresh') return undefined;
  if (item.kind === 'approval') {
    const view = await approvalView(db, item.refId);
    return view && approvalMessage({ ...view, where: platformLabel(view.platform, view.sourceKey) });
  }
  if (item.kind === 'customer_message') {
    const [msg] = await db.select().from(messages).where(eq(messages.id, item.refId));
    return msg ? customerMessage(msg) : undefined;
  }
  if (item.kind === 'reply_sent' || item.kind === 'reply_failed') {
    const [row] = await db
      .select({ reply: replies, platform: cases.platform, sourceKey: cases.sourceKey })
      .from(replies)
      .innerJoin(cases, eq(cases.id, replies.caseId))
      .where(eq(replies.id, item.refId));
    if (!row) return undefined;
    const where = platformLabel(row.platform, row.sourceKey);
    return item.kind === 'reply_sent' ? sentMessage(row.reply, where) : failedMessage(row.reply, where);
  }
  if (item.kind === 'event') {
    // An announcement of something in the event log (an answer, a take-over, a release).
    const [event] = await db.select().from(caseEvents).where(eq(caseEvents.id, item.refId));
    const text = typeof event?.data.slackText === 'string' ? event.data.slackText : undefined;
    return text ? { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] } : undefined;
  }
  if (item.kind === 'sla') {
    const [reminder] = await db.select().from(slaReminders).where(eq(slaReminders.id, item.refId));
    if (!reminder) return undefined;
    return {
      text: reminder.text,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: reminder.text } }],
    };
  }
  const [esc] = await db.select().from(escalations).where(eq(escalations.id, item.refId));
  if (!esc) return undefined;
  return escalationMessage({ team: teamByKey(teams, esc.teamKey), escalation: esc });
}

/** ✅ or ⚠️ on the agent's own message. A reaction already there, or a deleted message, is fine. */
export async function replyFeedback(
  db: Database,
  client: WebClient,
  item: typeof slackOutbox.$inferSelect,
): Promise<void> {
  const [reply] = await db.select().from(replies).where(eq(replies.id, item.refId));
  // A modal's reply and carebot's rating question have no Slack message of their own to react to.
  if (!reply || reply.kind === 'csat' || isModalOrigin(reply.slackTs)) return;
  try {
    await client.reactions.add({
      channel: reply.slackChannel,
      timestamp: reply.slackTs,
      name: item.kind === 'reply_sent' ? 'white_check_mark' : 'warning',
    });
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (code !== 'already_reacted' && code !== 'message_not_found' && code !== 'no_reaction') throw err;
  }
}
