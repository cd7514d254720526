import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTIONS } from '../../slack/case-card.js';
import { escalateModal } from '../../slack/escalation.js';
import { caseIdFrom, type ListenerContext } from '../context.js';

export function registerEscalateCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.escalate, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    // The trigger id expires three seconds after the click: open the modal first, think later.
    await client.views.open({
      trigger_id: body.trigger_id,
      view: escalateModal(caseId, ctx.config.teams) as never,
    });
  });
}
