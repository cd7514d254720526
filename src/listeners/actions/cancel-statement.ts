import { cancelBatch } from '../../care/statements.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';

/** Cancel all on the lead's undo notice: stops the statement's batch, or says what already went out. */
export async function cancelStatement({ ack, body, action, respond, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const batchId = caseIdFrom(action.value);
  if (!batchId) return;
  const result = await cancelBatch(ctx.db, ctx.clock, { batchId, userId: body.user.id });
  const text =
    result.kind === 'cancelled'
      ? result.alreadySent === 0
        ? `Cancelled: none of the ${result.stopped} replies went out.`
        : `Stopped ${result.stopped}; ${result.alreadySent} had already gone out.`
      : result.kind === 'not_author'
        ? `Only ${mentionUser(result.authorId)}, who sent it, can cancel it.`
        : 'That statement no longer exists.';
  if (result.kind === 'cancelled') ctx.logger.info({ batchId, ...result }, 'incident statement cancelled');
  await respond({ replace_original: result.kind === 'cancelled', response_type: 'ephemeral', text });
}
