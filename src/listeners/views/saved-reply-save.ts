import { listSavedReplies, saveSavedReply } from '../../care/saved-replies.js';
import { EDITOR_BLOCKS, EDITOR_ELEMENTS, savedRepliesModal } from '../../slack/saved-replies.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** The saved reply editor submitted: a new or changed saved reply, shown on the list underneath. */
export async function savedReplySave({ ack, body, view, client, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const values = view.state.values;
  const title = values[EDITOR_BLOCKS.title]?.[EDITOR_ELEMENTS.title]?.value?.trim() ?? '';
  const text = values[EDITOR_BLOCKS.text]?.[EDITOR_ELEMENTS.text]?.value?.trim() ?? '';
  if (!title)
    return ack({ response_action: 'errors', errors: { [EDITOR_BLOCKS.title]: 'Give it a title.' } });
  if (!text) return ack({ response_action: 'errors', errors: { [EDITOR_BLOCKS.text]: 'Write the reply.' } });
  const decision = await ctx.permissions.check(actorOf(body), { action: 'saved_replies' });
  if (!decision.allowed) {
    return ack({ response_action: 'errors', errors: { [EDITOR_BLOCKS.title]: decision.message } });
  }
  const id = caseIdFrom(view.private_metadata);
  const result = await saveSavedReply(ctx.db, ctx.clock, { id, title, text, userId: body.user.id });
  if (result.kind === 'title_taken') {
    return ack({
      response_action: 'errors',
      errors: { [EDITOR_BLOCKS.title]: 'A saved reply with this title exists.' },
    });
  }
  if (result.kind === 'not_found') {
    return ack({
      response_action: 'errors',
      errors: { [EDITOR_BLOCKS.title]: 'This saved reply was deleted.' },
    });
  }
  await ack();
  ctx.logger.info(
    { savedReplyId: result.reply.id, userId: body.user.id },
    id ? 'saved reply changed' : 'saved reply added',
  );
  // Back on the list underneath, show the change.
  const parent = view.previous_view_id;
  if (parent) {
    await client.views.update({
      view_id: parent,
      view: savedRepliesModal(await listSavedReplies(ctx.db)),
    });
  }
}
