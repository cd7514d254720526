import type { App, BlockButtonAction, BlockStaticSelectAction } from '@slack/bolt';
import { loadCaseView } from '../../care/case-view.js';
import { customerValues, fillTemplate, getSavedReply, listSavedReplies } from '../../care/saved-replies.js';
import { ACTIONS, platformLabel } from '../../slack/case-card.js';
import {
  parseReplyState,
  REPLY_BLOCKS,
  REPLY_TEXT_ELEMENT,
  replyModal,
  SAVED_REPLY_ACTIONS,
} from '../../slack/saved-replies.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

/** The card's Reply button, and picking a saved reply inside the Reply modal. */
export function registerReplyCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.reply, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'reply' }))) return;
    const [saved, view] = await Promise.all([listSavedReplies(ctx.db), loadCaseView(ctx.db, caseId)]);
    if (!view) return;
    const where = platformLabel(view.case.platform, view.case.sourceKey);
    await client.views.open({
      trigger_id: body.trigger_id,
      view: replyModal({ caseId }, saved, '', where) as never,
    });
  });

  app.action<BlockStaticSelectAction>(SAVED_REPLY_ACTIONS.pick, async ({ ack, body, action, client }) => {
    await ack();
    const state = body.view ? parseReplyState(body.view.private_metadata) : undefined;
    const savedReplyId = caseIdFrom(action.selected_option?.value);
    if (!body.view || !state || !savedReplyId) return;
    const [saved, chosen, view, agentName] = await Promise.all([
      listSavedReplies(ctx.db),
      getSavedReply(ctx.db, savedReplyId),
      loadCaseView(ctx.db, state.caseId),
      ctx.people.name(body.user.id),
    ]);
    if (!chosen || !view) return;
    const text = fillTemplate(chosen.text, {
      ...customerValues(view.firstMessage),
      agent_name: agentName,
      case_id: String(view.case.id),
    });
    const where = platformLabel(view.case.platform, view.case.sourceKey);
    await client.views.update({
      view_id: body.view.id,
      hash: body.view.hash,
      view: replyModal({ caseId: state.caseId, savedReplyId }, saved, text, where) as never,
    });
  });
}

/** The text typed in the Reply modal, wherever its (changing) block id is. */
export function replyTextFrom(values: Record<string, Record<string, { value?: string | null }>>): string {
  for (const [blockId, block] of Object.entries(values)) {
    if (blockId.startsWith(REPLY_BLOCKS.textPrefix)) return block[REPLY_TEXT_ELEMENT]?.value ?? '';
  }
  return '';
}
