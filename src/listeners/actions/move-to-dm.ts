import { moveToPrivate } from '../../care/case-lifecycle.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Move to DM: the owner takes a public conversation to private messages. */
export async function moveToDm({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'move_to_dm' }))) return;
  const result = await moveToPrivate(ctx.db, ctx.clock, caseId, body.user.id);
  if (result.kind === 'moved') {
    ctx.logger.info({ caseId, userId: body.user.id }, 'case moved to private messages');
    ctx.kickSync();
    return;
  }
  if (result.kind === 'not_owner' && body.channel?.id) {
    await client.chat.postEphemeral({
      channel: body.channel.id,
      user: body.user.id,
      text: result.ownerId
        ? `Only the owner, ${mentionUser(result.ownerId)}, can move case #${caseId} to DM.`
        : `Claim case #${caseId} first, then move it to DM.`,
    });
  }
}
