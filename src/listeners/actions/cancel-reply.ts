import { cancelReply as cancel } from '../../care/replies.js';
import { replyRefusal } from '../../slack/replies.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';

/** Cancel on a reply's private undo notice: only its author's click stops it. */
export async function cancelReply({ ack, body, action, respond, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const replyId = caseIdFrom(action.value);
  if (!replyId) return;
  const result = await cancel(ctx.db, ctx.clock, { replyId, userId: body.user.id });
  const text =
    result.kind === 'ok'
      ? 'Cancelled: nothing was sent. Edit your text and post it again.'
      : replyRefusal(result, 'cancel');
  await respond({ replace_original: true, response_type: 'ephemeral', text });
}
