import type { App, BlockButtonAction } from '@slack/bolt';
import { claimCase } from '../../care/cases.js';
import { ACTIONS } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { caseIdFrom, type ListenerContext } from '../context.js';

export function registerClaimCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.claim, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    const userId = body.user.id;
    const result = await claimCase(ctx.db, ctx.clock, caseId, userId);
    if (result.kind === 'claimed') {
      ctx.logger.info({ caseId, userId }, 'case claimed');
      ctx.kickSync();
      return;
    }
    const channel = body.channel?.id;
    if (!channel) return;
    const text =
      result.kind === 'owned_by_other'
        ? `${mentionUser(result.ownerId)} already owns case #${caseId}. Ask them in the thread if you want to help.`
        : result.kind === 'already_owner'
          ? `You already own case #${caseId}.`
          : result.kind === 'resolved'
            ? `Case #${caseId} is resolved.`
            : `Case #${caseId} no longer exists.`;
    await client.chat.postEphemeral({ channel, user: userId, text, thread_ts: body.message?.ts });
  });
}
