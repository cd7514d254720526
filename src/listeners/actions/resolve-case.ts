import type { App, BlockButtonAction } from '@slack/bolt';
import { reopenCase, resolveCase } from '../../care/case-lifecycle.js';
import { ACTIONS } from '../../slack/case-card.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

export function registerResolveCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.resolve, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'resolve' }))) return;
    const result = await resolveCase(ctx.db, ctx.clock, caseId, body.user.id, ctx.sla);
    if (result.kind === 'resolved') {
      ctx.logger.info({ caseId, userId: body.user.id }, 'case resolved');
      ctx.kickSync();
    }
  });

  app.action<BlockButtonAction>(ACTIONS.reopen, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'reopen' }))) return;
    const result = await reopenCase(ctx.db, ctx.clock, caseId, body.user.id, ctx.sla);
    if (result.kind === 'reopened') {
      ctx.logger.info({ caseId, userId: body.user.id }, 'case reopened');
      ctx.kickSync();
      return;
    }
    const channel = body.channel?.id;
    if (result.kind === 'newer_case_open' && channel) {
      await client.chat.postEphemeral({
        channel,
        user: body.user.id,
        text: `This conversation continues in case #${result.caseId}, which is open.`,
      });
    }
  });
}
