import { endWaiting as end } from '../../care/waiting.js';
import { slackDate } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed, tellClicker } from '../origin.js';

/** "No longer waiting" on the card: undoes "Waiting on customer"; the SLA clocks run again. */
export async function endWaiting({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'wait' }))) return;
  const userId = body.user.id;
  const result = await end(ctx.db, ctx.clock, {
    caseId,
    userId,
    sla: ctx.sla,
    slackText: (c) =>
      `:arrow_forward: ${mentionUser(userId)} ended the wait on the customer: the SLA clocks run again${
        c.resolutionDueAt ? ` (resolve by ${slackDate(c.resolutionDueAt)})` : ''
      }.`,
  });
  if (result.kind === 'ended') {
    ctx.logger.info({ caseId, userId }, 'case no longer waiting on the customer');
    ctx.kickSync();
    return;
  }
  await tellClicker(
    client,
    body,
    result.kind === 'not_waiting'
      ? `Case #${caseId} is not waiting on the customer (they may have answered meanwhile); nothing changed.`
      : `Case #${caseId} was not found.`,
  );
}
