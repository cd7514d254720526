import { rejectReply } from '../../care/approval.js';
import { replyWithCase } from '../../care/threads.js';
import { APPROVAL_BLOCKS, rejectedText } from '../../slack/approval.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** Reject submitted: the reply never leaves; the trainee is told in the thread, with the note. */
export async function approvalRejectSubmit({ ack, body, view, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const fail = (message: string) =>
    ack({ response_action: 'errors', errors: { [APPROVAL_BLOCKS.note]: message } });
  const replyId = caseIdFrom(view.private_metadata);
  const row = replyId ? await replyWithCase(ctx.db, replyId) : undefined;
  if (!row) return fail('This reply no longer exists.');
  const note = view.state.values[APPROVAL_BLOCKS.note]?.[APPROVAL_BLOCKS.noteElement]?.value?.trim() ?? '';
  const may = await ctx.permissions.check(actorOf(body), {
    action: 'approve_reply',
    authorId: row.reply.authorId,
  });
  if (!may.allowed) return fail(may.message);
  const approverId = body.user.id;
  const result = await rejectReply(ctx.db, ctx.clock, {
    replyId: row.reply.id,
    approverId,
    note,
    slackText: (reply) => rejectedText(reply, approverId, note),
  });
  if (result.kind === 'not_found') return fail('This reply no longer exists.');
  // Rejecting never looks at the case's status, so the only other answer is "decided".
  if (result.kind === 'case_resolved') return fail('This case is resolved.');
  if (result.kind !== 'ok')
    return fail(`Someone else decided first: the reply is ${result.reply.status.replace('_', ' ')}.`);
  await ack();
  ctx.logger.info({ caseId: result.reply.caseId, replyId: result.reply.id, approverId }, 'reply rejected');
  ctx.kickSync();
}
