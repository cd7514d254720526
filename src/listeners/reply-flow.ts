import type { types } from '@slack/bolt';
import type { CaseRow } from '../care/records.js';
import { queueReply } from '../care/replies.js';
import { checkTone, replyTarget } from '../care/tone.js';
import { awaitingNotice } from '../slack/approval.js';
import { platformLabel } from '../slack/case-card.js';
import { heldNotice, undoNotice } from '../slack/replies.js';
import type { ListenerContext } from './context.js';

/**
 * The one path every reply takes, typed in the thread or picked in the Reply modal: tone check,
 * then held (with the reasons) or queued (with the undo notice). A trainee's reply (the policy
 * said `approval: 'required'`) waits for an approver instead, whatever the tone check found. A
 * duplicate says nothing.
 */
export async function queueAndNotify(
  ctx: ListenerContext,
  input: {
    caseRow: CaseRow;
    authorId: string;
    text: string;
    origin: { channel: string; ts: string };
    savedReplyId?: number;
    /** From the permission decision: the author is in training. */
    approval?: 'required' | undefined;
    notify: (content: { text: string; blocks?: types.KnownBlock[] }) => Promise<unknown>;
  },
): Promise<void> {
  const findings = checkTone(input.text, replyTarget(input.caseRow), ctx.tone);
  const result = await queueReply(ctx.db, ctx.clock, {
    caseId: input.caseRow.id,
    authorId: input.authorId,
    text: input.text,
    origin: input.origin,
    findings,
    delay: ctx.config.replyDelay,
    ...(input.savedReplyId ? { savedReplyId: input.savedReplyId } : {}),
    ...(input.approval ? { approval: { approversUsergroup: ctx.config.approval.approversUsergroup } } : {}),
  });
  if (result.kind === 'duplicate') return;
  if (result.kind === 'awaiting_approval') {
    ctx.logger.info({ caseId: input.caseRow.id, replyId: result.reply.id }, 'reply awaits approval');
    ctx.kickSync();
    await input.notify(awaitingNotice(ctx.config.approval.approversUsergroup));
    return;
  }
  if (result.kind === 'held') {
    ctx.logger.info(
      { caseId: input.caseRow.id, replyId: result.reply.id, findings: findings.map((f) => f.rule) },
      'reply held',
    );
    await input.notify(heldNotice(result.reply, findings));
    return;
  }
  ctx.logger.info({ caseId: input.caseRow.id, replyId: result.reply.id }, 'reply queued');
  ctx.deliverAt(result.reply.sendAt);
  await input.notify(
    undoNotice(
      result.reply,
      platformLabel(input.caseRow.platform, input.caseRow.sourceKey),
      ctx.config.replyDelay,
    ),
  );
}
