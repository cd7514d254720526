import type { App, BlockButtonAction } from '@slack/bolt';
import { deleteSavedReply, getSavedReply, listSavedReplies } from '../../care/saved-replies.js';
import { SAVED_REPLY_ACTIONS, savedRepliesModal, savedReplyEditor } from '../../slack/saved-replies.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

const MAY_EDIT = { action: 'saved_replies' } as const;

/** Add, Edit and Delete in the `/care replies` modal. */
export function registerSavedReplyButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(SAVED_REPLY_ACTIONS.add, async ({ ack, body, client }) => {
    await ack();
    if (!(await clickAllowed(ctx, { body, client }, undefined, MAY_EDIT))) return;
    await client.views.push({ trigger_id: body.trigger_id, view: savedReplyEditor() as never });
  });

  app.action<BlockButtonAction>(SAVED_REPLY_ACTIONS.edit, async ({ ack, body, action, client }) => {
    await ack();
    const id = caseIdFrom(action.value);
    const existing = id ? await getSavedReply(ctx.db, id) : undefined;
    if (!existing) return;
    if (!(await clickAllowed(ctx, { body, client }, undefined, MAY_EDIT))) return;
    await client.views.push({ trigger_id: body.trigger_id, view: savedReplyEditor(existing) as never });
  });

  app.action<BlockButtonAction>(SAVED_REPLY_ACTIONS.delete, async ({ ack, body, action, client }) => {
    await ack();
    const id = caseIdFrom(action.value);
    if (!id || !body.view) return;
    if (!(await clickAllowed(ctx, { body, client }, undefined, MAY_EDIT))) return;
    if (await deleteSavedReply(ctx.db, ctx.clock, id)) {
      ctx.logger.info({ savedReplyId: id, userId: body.user.id }, 'saved reply deleted');
    }
    await client.views.update({
      view_id: body.view.id,
      view: savedRepliesModal(await listSavedReplies(ctx.db)) as never,
    });
  });
}
