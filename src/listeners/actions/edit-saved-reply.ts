import { getSavedReply } from '../../care/saved-replies.js';
import { savedReplyEditor } from '../../slack/saved-replies.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

export const MAY_EDIT_SAVED_REPLIES = { action: 'saved_replies' } as const;

/** Edit in the `/care replies` modal: the editor with the saved reply filled in. */
export async function editSavedReply({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const id = caseIdFrom(action.value);
  const existing = id ? await getSavedReply(ctx.db, id) : undefined;
  if (!existing) return;
  if (!(await clickAllowed(ctx, { body, client }, undefined, MAY_EDIT_SAVED_REPLIES))) return;
  await client.views.push({ trigger_id: body.trigger_id, view: savedReplyEditor(existing) });
}
