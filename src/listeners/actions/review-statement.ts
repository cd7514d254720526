import { statementModal } from '../../slack/incident.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';
import { previewPlan, statementDraft } from '../statement-flow.js';

/** Send statement (or Send follow-up) on an incident: the lead reviews it, and who gets it, in a modal. */
export async function reviewStatement(args: ButtonArgs): Promise<void> {
  await args.ack();
  const ctx = args.context.carebot;
  const id = caseIdFrom(args.action.value);
  const draft = id ? await statementDraft(ctx, id) : undefined;
  if (!draft) return;
  const permission = { action: 'send_statement', leadId: draft.incident.leadId } as const;
  if (!(await clickAllowed(ctx, args, { incidentId: draft.incident.id }, permission))) return;
  const plan = await previewPlan(ctx, draft.incident.id, draft.text, args.body.user.id);
  await args.client.views.open({
    trigger_id: args.body.trigger_id,
    view: statementModal(draft.incident, draft.text, plan, ctx.config.replyDelay),
  });
}
