import { approveReply } from '../../care/approval.js';
import { caseThread, replyWithCase } from '../../care/threads.js';
import { checkTone, replyTarget } from '../../care/tone.js';
import { APPROVAL_BLOCKS, approvedText } from '../../slack/approval.js';
import { platformLabel } from '../../slack/case-card.js';
import { heldNotice, undoNotice } from '../../slack/replies.js';
import { withOthersWaiting } from '../approval-gate.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/**
 * The approver's Edit submitted: the edited text is approved (the tone check applies to it as to
 * any reply: findings hold it for the approver). Refused in the modal when someone decided first.
 */
export async function approvalEditSubmit({
  ack,
  body,
  view,
  client,
  context,
}: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const fail = (message: string) =>
    ack({ response_action: 'errors', errors: { [APPROVAL_BLOCKS.text]: message } });
  const replyId = caseIdFrom(view.private_metadata);
  const row = replyId ? await replyWithCase(ctx.db, replyId) : undefined;
  if (!row) return fail('This reply no longer exists.');
  const text = view.state.values[APPROVAL_BLOCKS.text]?.[APPROVAL_BLOCKS.textElement]?.value?.trim() ?? '';
  if (!text) return fail('Write the reply, or close this and press Reject.');
  const may = await ctx.permissions.check(actorOf(body), {
    action: 'approve_reply',
    authorId: row.reply.authorId,
  });
  if (!may.allowed) return fail(may.message);
  const findings = checkTone(text, replyTarget(row), ctx.tone);
  const approverId = body.user.id;
  const result = await approveReply(ctx.db, ctx.clock, {
    replyId: row.reply.id,
    approverId,
    text,
    findings,
    delay: ctx.config.replyDelay,
    slackText: (reply, edited) => approvedText(reply, approverId, edited, ctx.config.replyDelay),
  });
  if (result.kind === 'not_found') return fail('This reply no longer exists.');
  if (result.kind === 'case_resolved')
    return fail('This case is resolved. Reopen it to approve the reply, or reject it.');
  if (result.kind === 'decided')
    return fail(`Someone else decided first: the reply is ${result.reply.status.replace('_', ' ')}.`);
  await ack();
  ctx.logger.info(
    { caseId: result.reply.caseId, replyId: result.reply.id, approverId },
    'reply edited and approved',
  );
  ctx.kickSync();
  const thread = await caseThread(ctx.db, result.reply.caseId);
  const notice =
    result.reply.status === 'held'
      ? heldNotice(result.reply, findings)
      : undoNotice(result.reply, platformLabel(row.platform, row.sourceKey), ctx.config.replyDelay);
  if (result.reply.status !== 'held') ctx.deliverAt(result.reply.sendAt);
  if (!thread) return;
  await client.chat.postEphemeral({
    channel: thread.channelId,
    user: approverId,
    thread_ts: thread.threadTs,
    ...withOthersWaiting(notice, result.othersWaiting),
  });
}
