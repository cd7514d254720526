import { unclaimCase as unclaim } from '../../care/case-ownership.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Unclaim: the owner lets the case go; anyone else is told who owns it. */
export async function unclaimCase({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'unclaim' }))) return;
  const userId = body.user.id;
  const result = await unclaim(
    ctx.db,
    ctx.clock,
    caseId,
    userId,
    (released) =>
      `:wave: ${mentionUser(userId)} let go of this case; it is unclaimed again.${
        released.autoAssignedAt ? ' carebot does not assign it again: someone on the team claims it.' : ''
      }`,
  );
  if (result.kind === 'unclaimed') {
    ctx.logger.info({ caseId, userId }, 'case unclaimed');
    ctx.kickSync();
    return;
  }
  const channel = body.channel?.id;
  if (!channel) return;
  const text =
    result.kind === 'not_owner' && result.ownerId
      ? `Only the owner, ${mentionUser(result.ownerId)}, can unclaim case #${caseId}.`
      : `Case #${caseId} has no owner.`;
  await client.chat.postEphemeral({ channel, user: userId, text, thread_ts: body.message?.ts });
}
