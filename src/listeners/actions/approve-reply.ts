import { approveReply as approve } from '../../care/approval.js';
import { checkTone, replyTarget } from '../../care/tone.js';
import { approvedText, CASE_RESOLVED_TEXT, decidedText } from '../../slack/approval.js';
import { platformLabel } from '../../slack/case-card.js';
import { heldNotice, undoNotice } from '../../slack/replies.js';
import { approvalClick, tellApprover, withOthersWaiting } from '../approval-gate.js';
import type { ButtonArgs } from '../context.js';
import { tellClicker } from '../origin.js';

/**
 * Approve on a trainee's reply: it goes into the undo window from now, with the Cancel notice to
 * the approver (who now answers for it), or is held for them when the tone check finds something.
 */
export async function approveReply(args: ButtonArgs): Promise<void> {
  const { ack, body, client, context } = args;
  await ack();
  const ctx = context.carebot;
  const row = await approvalClick(ctx, args);
  if (!row) return;
  const findings = checkTone(row.reply.text, replyTarget(row), ctx.tone);
  const result = await approve(ctx.db, ctx.clock, {
    replyId: row.reply.id,
    approverId: body.user.id,
    findings,
    delay: ctx.config.replyDelay,
    slackText: (reply, edited) => approvedText(reply, body.user.id, edited, ctx.config.replyDelay),
  });
  if (result.kind === 'not_found') return;
  if (result.kind === 'case_resolved') return tellClicker(client, body, CASE_RESOLVED_TEXT);
  if (result.kind === 'decided') return tellClicker(client, body, decidedText(result.reply));
  ctx.logger.info(
    { caseId: result.reply.caseId, replyId: result.reply.id, approverId: body.user.id },
    'reply approved',
  );
  ctx.kickSync();
  const notice =
    result.reply.status === 'held'
      ? heldNotice(result.reply, findings)
      : undoNotice(result.reply, platformLabel(row.platform, row.sourceKey), ctx.config.replyDelay);
  if (result.reply.status !== 'held') ctx.deliverAt(result.reply.sendAt);
  await tellApprover(args, withOthersWaiting(notice, result.othersWaiting));
}
