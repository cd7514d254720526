import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTIONS } from '../../slack/case-card.js';
import { escalateModal } from '../../slack/escalation.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

export function registerEscalateCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.escalate, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    // The trigger id expires three seconds after the click; the check is a database read and a
    // (cached) Slack lookup, well within it. The submission is checked again.
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'escalate' }))) return;
    await client.views.open({
      trigger_id: body.trigger_id,
      view: escalateModal(caseId, ctx.config.teams) as never,
    });
  });
}
