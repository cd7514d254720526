import { takeOver } from '../../care/case-ownership.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Take over, confirmed from the private offer a second claimer got. */
export async function takeOverCase({
  ack,
  body,
  action,
  respond,
  client,
  context,
}: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  const userId = body.user.id;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'take_over' }))) return;
  const result = await takeOver(ctx.db, ctx.clock, caseId, userId, mentionUser);
  if (result.kind === 'taken_over') {
    ctx.logger.info({ caseId, userId, from: result.previousOwner }, 'case taken over');
    ctx.kickSync();
    await respond({
      replace_original: true,
      response_type: 'ephemeral',
      text: `Case #${caseId} is yours now.`,
    });
  }
}
