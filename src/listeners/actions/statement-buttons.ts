import type { App, BlockButtonAction } from '@slack/bolt';
import { cancelBatch } from '../../care/statements.js';
import { INCIDENT_ACTIONS, STATEMENT_CANCEL, statementModal } from '../../slack/incident.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';
import { previewPlan, statementDraft } from '../statement-flow.js';

/** Send statement (the incident's lead reviews it in a modal) and Cancel all (the batch's undo). */
export function registerStatementButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(INCIDENT_ACTIONS.sendStatement, async (args) => {
    await args.ack();
    const id = caseIdFrom(args.action.value);
    const draft = id ? await statementDraft(ctx, id) : undefined;
    if (!draft) return;
    const permission = { action: 'send_statement', leadId: draft.incident.leadId } as const;
    if (!(await clickAllowed(ctx, args, { incidentId: draft.incident.id }, permission))) return;
    const plan = await previewPlan(ctx, draft.incident.id, draft.text, args.body.user.id);
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: statementModal(draft.incident, draft.text, plan, ctx.config.replyDelay) as never,
    });
  });

  app.action<BlockButtonAction>(STATEMENT_CANCEL, async ({ ack, body, action, respond }) => {
    await ack();
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
  });
}
