import { resolveCase as resolve } from '../../care/case-lifecycle.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

export async function resolveCase({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'resolve' }))) return;
  const result = await resolve(ctx.db, ctx.clock, caseId, body.user.id, ctx.sla, {
    csat: { ...ctx.config.csat, delay: ctx.config.replyDelay },
  });
  if (result.kind === 'resolved') {
    ctx.logger.info({ caseId, userId: body.user.id }, 'case resolved');
    ctx.kickSync();
    if (result.askAt) ctx.deliverAt(result.askAt);
  }
}
