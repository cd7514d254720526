import { resolveIncident as resolve } from '../../care/incidents.js';
import { followUpPrompt, incidentTexts } from '../../slack/incident.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed, tellPresser } from '../origin.js';

/** Resolve on an incident message; the thread then prompts the lead to follow up with every customer. */
export async function resolveIncident(args: ButtonArgs): Promise<void> {
  await args.ack();
  const ctx = args.context.carebot;
  const id = caseIdFrom(args.action.value);
  if (!id) return;
  if (!(await clickAllowed(ctx, args, { incidentId: id }, { action: 'incident' }))) return;
  const result = await resolve(ctx.db, ctx.clock, {
    incidentId: id,
    userId: args.body.user.id,
    texts: incidentTexts,
    prompt: followUpPrompt,
  });
  ctx.kickSync();
  if (result.kind === 'resolved') {
    ctx.logger.info({ incidentId: id, userId: args.body.user.id }, 'incident resolved');
    return;
  }
  await tellPresser(
    args,
    result.kind === 'resolved_already'
      ? 'This incident is already resolved.'
      : 'That incident no longer exists.',
  );
}
