import { loadCaseView } from '../../care/case-view.js';
import { listSavedReplies } from '../../care/saved-replies.js';
import { platformLabel } from '../../slack/case-card.js';
import { replyModal } from '../../slack/saved-replies.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Reply on a case card: opens the Reply modal (a saved reply to start from, the text, Send). */
export async function replyToCase({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'reply' }))) return;
  const [saved, view] = await Promise.all([listSavedReplies(ctx.db), loadCaseView(ctx.db, caseId)]);
  if (!view) return;
  const where = platformLabel(view.case.platform, view.case.sourceKey);
  await client.views.open({ trigger_id: body.trigger_id, view: replyModal({ caseId }, saved, '', where) });
}
