import { confirmedCase, forgetCustomer } from '../../care/forget.js';
import {
  FORGET_STARTED_TEXT,
  FORGET_TAMPERED_TEXT,
  forgetOutcomeModal,
  forgottenText,
  noSuchCaseText,
} from '../../slack/forget.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/**
 * The forget modal submitted: the permission is asked again (it may have changed since the modal
 * opened), and the case must be the one this person opened this modal for; then the erasure runs
 * and its outcome comes by direct message.
 */
export async function forgetSubmit({ ack, body, view, client, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const caseId = caseIdFrom(view.private_metadata);
  const refuse = (text: string) => ack({ response_action: 'update', view: forgetOutcomeModal(text) });
  const may = await ctx.permissions.check(actorOf(body), { action: 'forget' });
  if (!may.allowed) {
    ctx.logger.info({ userId: body.user.id, reason: may.reason }, 'forget refused');
    await refuse(may.message);
    return;
  }
  const confirmed = await confirmedCase(ctx.db, { userId: body.user.id, viewId: view.id });
  if (!caseId || confirmed !== caseId) {
    ctx.logger.warn(
      { userId: body.user.id, viewId: view.id, confirmed, submitted: caseId ?? null },
      'forget refused: the submission names another case than the modal was opened for',
    );
    await refuse(FORGET_TAMPERED_TEXT);
    return;
  }
  await ack({ response_action: 'update', view: forgetOutcomeModal(FORGET_STARTED_TEXT) });
  const started = Date.now();
  const result = await forgetCustomer(ctx.db, ctx.clock, { caseId, actor: body.user.id });
  if (result.kind === 'not_found') {
    await client.chat.postMessage({ channel: body.user.id, text: noSuchCaseText(caseId) });
    return;
  }
  ctx.logger.info(
    { caseId, cases: result.caseIds.length, userId: body.user.id, ms: Date.now() - started },
    "customer forgotten: their cases' texts erased",
  );
  ctx.kickSync();
  await client.chat.postMessage({
    channel: body.user.id,
    text: forgottenText(caseId, result.caseIds, result.cancelledReplies),
  });
}
