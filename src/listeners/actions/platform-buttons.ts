import type { App, BlockButtonAction } from '@slack/bolt';
import { moveToPrivate, recordRepliedOnSite } from '../../care/case-lifecycle.js';
import { ACTIONS } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Buttons that depend on the platform: "I replied on the site", "Move to DM", and the link button. */
export function registerPlatformButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.repliedOnSite, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'reply' }))) return;
    const result = await recordRepliedOnSite(ctx.db, ctx.clock, caseId, body.user.id);
    if (result.kind === 'recorded') {
      ctx.logger.info({ caseId, userId: body.user.id }, 'reply on the site recorded');
      ctx.kickSync();
      return;
    }
    if (result.kind === 'not_owner' && body.channel?.id) {
      await client.chat.postEphemeral({
        channel: body.channel.id,
        user: body.user.id,
        text: `${mentionUser(result.ownerId)} owns case #${caseId}; they record the reply.`,
      });
    }
  });

  app.action<BlockButtonAction>(ACTIONS.moveToPrivate, async ({ ack, body, action, client }) => {
    await ack();
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
  });

  // A link button still sends an action; acknowledging it keeps Slack from showing an error.
  app.action('case_open_original', async ({ ack }) => {
    await ack();
  });
}
