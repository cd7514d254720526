import type { types } from '@slack/bolt';
import { replyWithCase } from '../care/threads.js';
import { decidedText } from '../slack/approval.js';
import { type ButtonArgs, caseIdFrom, type ListenerContext } from './context.js';
import { clickAllowed, tellClicker } from './origin.js';

/**
 * The gate of Approve, Edit and Reject on a trainee's reply: the click comes from its case's
 * thread, the policy allows `approve_reply` for this reply's author (approvers only, never the
 * author), and the reply still waits. Answers the reply with its case, or undefined after telling
 * the clicker why not.
 */
export async function approvalClick(
  ctx: ListenerContext,
  { body, action, client }: Pick<ButtonArgs, 'body' | 'action' | 'client'>,
): Promise<NonNullable<Awaited<ReturnType<typeof replyWithCase>>> | undefined> {
  const replyId = caseIdFrom(action.value);
  const row = replyId ? await replyWithCase(ctx.db, replyId) : undefined;
  if (!row) return undefined;
  const permission = { action: 'approve_reply', authorId: row.reply.authorId } as const;
  if (!(await clickAllowed(ctx, { body, client }, { caseId: row.reply.caseId }, permission)))
    return undefined;
  if (row.reply.status !== 'awaiting_approval') {
    await tellClicker(client, body, decidedText(row.reply));
    return undefined;
  }
  return row;
}

/** A private message with blocks to the approver, in the case thread where they clicked. */
export async function tellApprover(
  { body, client }: Pick<ButtonArgs, 'body' | 'client'>,
  content: { text: string; blocks?: types.KnownBlock[] },
): Promise<void> {
  const channel = body.channel?.id;
  if (!channel) return;
  const threadTs = body.message?.thread_ts ?? body.message?.ts;
  await client.chat.postEphemeral({
    channel,
    user: body.user.id,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...content,
  });
}

/**
 * The approver's notice after approving (undo window or tone hold), with how many more drafts of
 * the case still wait: they were not sent with this one.
 */
export function withOthersWaiting(
  notice: { text: string; blocks: types.KnownBlock[] },
  others: number,
): { text: string; blocks: types.KnownBlock[] } {
  if (others === 0) return notice;
  const line =
    others === 1
      ? ':warning: 1 more draft waits for approval in this case; it was not sent with this one.'
      : `:warning: ${others} more drafts wait for approval in this case; they were not sent with this one.`;
  return {
    text: `${notice.text}\n${line}`,
    blocks: [...notice.blocks, { type: 'section', text: { type: 'mrkdwn', text: line } }],
  };
}
