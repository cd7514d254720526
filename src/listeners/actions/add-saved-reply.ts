import { savedReplyEditor } from '../../slack/saved-replies.js';
import type { ButtonArgs } from '../context.js';
import { clickAllowed } from '../origin.js';
import { MAY_EDIT_SAVED_REPLIES } from './edit-saved-reply.js';

/** Add in the `/care replies` modal: the editor, pushed on top of the list. */
export async function addSavedReply({ ack, body, client, context }: ButtonArgs): Promise<void> {
  await ack();
  if (!(await clickAllowed(context.carebot, { body, client }, undefined, MAY_EDIT_SAVED_REPLIES))) return;
  await client.views.push({ trigger_id: body.trigger_id, view: savedReplyEditor() });
}
