import { listSavedReplies, deleteSavedReply as remove } from '../../care/saved-replies.js';
import { savedRepliesModal } from '../../slack/saved-replies.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';
import { MAY_EDIT_SAVED_REPLIES } from './edit-saved-reply.js';

/** Delete in the `/care replies` modal (confirmed by Slack's dialog); the list shows the change. */
export async function deleteSavedReply({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const id = caseIdFrom(action.value);
  if (!id || !body.view) return;
  if (!(await clickAllowed(ctx, { body, client }, undefined, MAY_EDIT_SAVED_REPLIES))) return;
  if (await remove(ctx.db, ctx.clock, id)) {
    ctx.logger.info({ savedReplyId: id, userId: body.user.id }, 'saved reply deleted');
  }
  await client.views.update({
    view_id: body.view.id,
    view: savedRepliesModal(await listSavedReplies(ctx.db)),
  });
}
