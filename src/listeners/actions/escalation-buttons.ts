import type { App, BlockButtonAction } from '@slack/bolt';
import { acknowledgeEscalation, getEscalation } from '../../care/escalations.js';
import { answerModal, ESCALATION_ACTIONS, escalationMessage } from '../../slack/escalation.js';
import { caseIdFrom, type ListenerContext, teamOf } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Acknowledge and Answer on an escalation message: for the team's members and the care team. */
export function registerEscalationButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ESCALATION_ACTIONS.acknowledge, async ({ ack, body, action, client }) => {
    await ack();
    const id = caseIdFrom(action.value);
    const escalation = id ? await getEscalation(ctx.db, id) : undefined;
    if (!escalation) return;
    const team = teamOf(ctx, escalation.teamKey);
    const channel = body.channel?.id;
    const permission = { action: 'escalation', teamKey: team.key } as const;
    // The escalation's message lives in its case's thread: the click must come from there.
    if (!(await clickAllowed(ctx, { body, client }, { caseId: escalation.caseId }, permission))) return;
    const result = await acknowledgeEscalation(ctx.db, ctx.clock, escalation.id, body.user.id);
    if (result.kind === 'not_found') return;
    ctx.logger.info({ escalationId: escalation.id, userId: body.user.id }, 'escalation acknowledged');
    ctx.kickSync();
    // Show it on the message that was clicked.
    if (channel && body.message?.ts) {
      await client.chat.update({
        channel,
        ts: body.message.ts,
        ...escalationMessage({ team, escalation: result.escalation }),
      } as never);
    }
  });

  app.action<BlockButtonAction>(ESCALATION_ACTIONS.answer, async ({ ack, body, action, client }) => {
    await ack();
    const id = caseIdFrom(action.value);
    const escalation = id ? await getEscalation(ctx.db, id) : undefined;
    if (!escalation) return;
    const team = teamOf(ctx, escalation.teamKey);
    const permission = { action: 'escalation', teamKey: team.key } as const;
    // The escalation's message lives in its case's thread: the click must come from there.
    if (!(await clickAllowed(ctx, { body, client }, { caseId: escalation.caseId }, permission))) return;
    await client.views.open({
      trigger_id: body.trigger_id,
      view: answerModal(escalation.id, team.name) as never,
    });
  });
}
