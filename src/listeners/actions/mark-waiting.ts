import type { CaseRow } from '../../care/records.js';
import { markWaiting as mark } from '../../care/waiting.js';
import type { Config } from '../../config.js';
import { slackDate } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed, tellClicker } from '../origin.js';

/** "Waiting on customer" on the card: the SLA clocks pause until the customer answers. */
export async function markWaiting({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'wait' }))) return;
  const userId = body.user.id;
  const result = await mark(ctx.db, ctx.clock, {
    caseId,
    userId,
    slackText: (c) => waitingText(c, userId, ctx.config.autoResolve),
  });
  if (result.kind === 'waiting') {
    ctx.logger.info({ caseId, userId }, 'case waiting on the customer');
    ctx.kickSync();
    return;
  }
  const text =
    result.kind === 'customer_wrote_last'
      ? `The customer has written since the last answer (or no answer has reached them yet), so case #${caseId} is not waiting on them; nothing changed.`
      : result.kind === 'already_waiting'
        ? `Case #${caseId} has been waiting on the customer since ${slackDate(result.since)}.`
        : result.kind === 'resolved'
          ? `Case #${caseId} is resolved; nothing changed.`
          : `Case #${caseId} was not found.`;
  await tellClicker(client, body, text);
}

/** The thread's note: who paused the clocks, and what carebot will do if the customer stays silent. */
export function waitingText(c: CaseRow, userId: string, autoResolve: Config['autoResolve']): string {
  const since = (c.waitingSince ?? new Date()).getTime();
  const who = c.ownerId ? mentionUser(c.ownerId) : 'the care team';
  const plan =
    autoResolve.after === null
      ? ''
      : ` If they have not answered by ${slackDate(new Date(since + autoResolve.after))}, carebot resolves the case${
          autoResolve.nudgeAfter === null
            ? ''
            : ` (and reminds ${who} on ${slackDate(new Date(since + autoResolve.nudgeAfter))})`
        }.`;
  return `:hourglass: ${mentionUser(userId)} marked this case as waiting on the customer: its SLA clocks are paused until they answer.${plan} Press *No longer waiting* on the card to undo.`;
}
