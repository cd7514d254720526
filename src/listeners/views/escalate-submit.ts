import type { App } from '@slack/bolt';
import { escalateCase } from '../../care/cases.js';
import { ESCALATE_BLOCKS, ESCALATE_ELEMENTS, ESCALATE_VIEW } from '../../slack/escalation.js';
import { caseIdFrom, type ListenerContext } from '../context.js';

export function registerEscalateSubmit(app: App, ctx: ListenerContext): void {
  app.view(ESCALATE_VIEW, async ({ ack, body, view }) => {
    const caseId = caseIdFrom(view.private_metadata);
    const values = view.state.values;
    const teamKey = values[ESCALATE_BLOCKS.team]?.[ESCALATE_ELEMENTS.team]?.selected_option?.value;
    const note = values[ESCALATE_BLOCKS.note]?.[ESCALATE_ELEMENTS.note]?.value?.trim() ?? '';
    const team = ctx.config.teams.find((t) => t.key === teamKey);
    if (!team) {
      await ack({ response_action: 'errors', errors: { [ESCALATE_BLOCKS.team]: 'Pick one of the teams.' } });
      return;
    }
    if (!note) {
      await ack({
        response_action: 'errors',
        errors: { [ESCALATE_BLOCKS.note]: 'Tell the team what you need.' },
      });
      return;
    }
    if (!caseId) {
      await ack({
        response_action: 'errors',
        errors: { [ESCALATE_BLOCKS.team]: 'This case no longer exists.' },
      });
      return;
    }
    const result = await escalateCase(ctx.db, ctx.clock, {
      caseId,
      teamKey: team.key,
      note,
      userId: body.user.id,
      requestKey: `view:${view.id}`,
    });
    if (result.kind === 'not_found') {
      await ack({
        response_action: 'errors',
        errors: { [ESCALATE_BLOCKS.team]: 'This case no longer exists.' },
      });
      return;
    }
    await ack();
    if (result.kind === 'duplicate') return;
    ctx.logger.info({ caseId, team: team.key, userId: body.user.id }, 'case escalated');
    ctx.kickSync();
  });
}
