import type { App, BlockButtonAction } from '@slack/bolt';
import { unclaimCase } from '../../care/case-ownership.js';
import { ACTIONS } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

export function registerUnclaimCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.unclaim, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'unclaim' }))) return;
    const userId = body.user.id;
    const result = await unclaimCase(
      ctx.db,
      ctx.clock,
      caseId,
      userId,
      `:wave: ${mentionUser(userId)} let go of this case; it is unclaimed again.`,
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
  });
}
