import { recordRepliedOnSite as record } from '../../care/case-lifecycle.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** "I replied on the site" (forums and blogs, where carebot cannot post): the owner records it. */
export async function recordRepliedOnSite({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'reply' }))) return;
  const result = await record(ctx.db, ctx.clock, caseId, body.user.id);
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
}
