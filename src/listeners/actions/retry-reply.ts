import { retryReply as retry } from '../../care/replies.js';
import { replyWithCase } from '../../care/threads.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { replyRefusal } from '../../slack/replies.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Retry on the ⚠️ message of a reply that could not be delivered: its author's, as Send anyway. */
export async function retryReply({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const replyId = caseIdFrom(action.value);
  if (!replyId) return;
  if (!(await clickAllowed(ctx, { body, client }, undefined, { action: 'reply' }))) return;
  const result = await retry(ctx.db, ctx.clock, { replyId, userId: body.user.id });
  const channel = body.channel?.id;
  const threadTs = body.message?.thread_ts ?? body.message?.ts;
  if (result.kind === 'ok') {
    ctx.deliverAt(result.reply.sendAt);
    if (channel) {
      await client.chat.postEphemeral({
        channel,
        user: body.user.id,
        thread_ts: threadTs,
        text: 'Trying again now. You will see ✅ or another ⚠️ in the thread.',
      });
    }
    return;
  }
  if (!channel) return;
  const reply = (await replyWithCase(ctx.db, replyId))?.reply;
  const text =
    result.kind === 'not_author' && reply
      ? `Only ${mentionUser(reply.authorId)}, who wrote the reply, can retry it.`
      : replyRefusal(result, 'retry');
  await client.chat.postEphemeral({ channel, user: body.user.id, thread_ts: threadTs, text });
}
