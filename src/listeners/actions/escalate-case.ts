import { escalateModal } from '../../slack/escalation.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Escalate on a case card: opens the modal that asks which teams, how urgently and why. */
export async function escalateCase({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  // The trigger id expires three seconds after the click; the check is a database read and a
  // (cached) Slack lookup, well within it. The submission is checked again.
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'escalate' }))) return;
  await client.views.open({ trigger_id: body.trigger_id, view: escalateModal(caseId, ctx.config.teams) });
}
