import { sendAnyway } from '../../care/replies.js';
import { replyWithCase } from '../../care/threads.js';
import { checkTone, replyTarget } from '../../care/tone.js';
import { platformLabel } from '../../slack/case-card.js';
import { replyRefusal, undoNotice } from '../../slack/replies.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/**
 * Send anyway on a reply the tone check held. It makes a reply reach the customer: the care
 * team's, and only the reply's author's (a reply id from elsewhere meets "not the author"); for a
 * trainee's reply held after approval, only its approver's.
 */
export async function sendReplyAnyway({
  ack,
  body,
  action,
  respond,
  client,
  context,
}: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const replyId = caseIdFrom(action.value);
  if (!replyId) return;
  const row = await replyWithCase(ctx.db, replyId);
  if (!row) return;
  // A trainee's approved reply is its approver's to send (care/approval.ts).
  const permission = row.reply.reviewedBy
    ? ({ action: 'approve_reply', authorId: row.reply.authorId } as const)
    : ({ action: 'reply' } as const);
  if (!(await clickAllowed(ctx, { body, client }, undefined, permission))) return;
  const findings = checkTone(row.reply.text, replyTarget(row), ctx.tone).map((f) => f.rule);
  const result = await sendAnyway(ctx.db, ctx.clock, {
    replyId,
    userId: body.user.id,
    delay: ctx.config.replyDelay,
    findings,
  });
  if (result.kind !== 'ok') {
    await respond({ replace_original: true, response_type: 'ephemeral', text: replyRefusal(result, 'send') });
    return;
  }
  ctx.logger.info(
    { caseId: result.reply.caseId, replyId, userId: body.user.id, findings },
    'tone check overridden',
  );
  ctx.deliverAt(result.reply.sendAt);
  await respond({
    replace_original: true,
    response_type: 'ephemeral',
    ...undoNotice(result.reply, platformLabel(row.platform, row.sourceKey), ctx.config.replyDelay),
  });
}
