import { loadCaseView } from '../../care/case-view.js';
import { customerValues, fillTemplate, getSavedReply, listSavedReplies } from '../../care/saved-replies.js';
import { platformLabel } from '../../slack/case-card.js';
import { parseReplyState, replyModal } from '../../slack/saved-replies.js';
import { caseIdFrom, type StaticSelectArgs } from '../context.js';

/** Picking a saved reply inside the Reply modal: its text, filled in for this customer, replaces the draft. */
export async function pickSavedReply({
  ack,
  body,
  action,
  client,
  context,
}: StaticSelectArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
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
    view: replyModal({ caseId: state.caseId, savedReplyId }, saved, text, where),
  });
}
