import type { App, BlockButtonAction } from '@slack/bolt';
import { eq } from 'drizzle-orm';
import { cancelReply, type ReplyChange, retryReply, sendAnyway } from '../../care/replies.js';
import { checkTone, replyTarget } from '../../care/tone.js';
import { cases, replies } from '../../db/schema.js';
import { platformLabel } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { REPLY_ACTIONS, undoNotice } from '../../slack/replies.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

function refusal(result: Exclude<ReplyChange, { kind: 'ok' }>, what: string): string {
  switch (result.kind) {
    case 'not_author':
      return `Only the person who wrote the reply can ${what} it.`;
    case 'too_late':
      return result.status === 'sent'
        ? 'Too late: the reply was already sent.'
        : result.status === 'sending'
          ? 'Too late: the reply is being sent right now.'
          : `The reply is ${result.status}; nothing to ${what}.`;
    case 'not_found':
      return 'That reply no longer exists.';
  }
}

/** The buttons on a reply's private notices and on the ⚠️ message: Cancel, Send anyway, Retry. */
export function registerReplyButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(REPLY_ACTIONS.cancel, async ({ ack, body, action, respond }) => {
    await ack();
    const replyId = caseIdFrom(action.value);
    if (!replyId) return;
    const result = await cancelReply(ctx.db, ctx.clock, { replyId, userId: body.user.id });
    const text =
      result.kind === 'ok'
        ? 'Cancelled: nothing was sent. Edit your text and post it again.'
        : refusal(result, 'cancel');
    await respond({ replace_original: true, response_type: 'ephemeral', text });
  });

  // Send anyway and Retry make a reply reach the customer: the care team's, and only the reply's
  // author's (a reply id from elsewhere meets "not the author").
  app.action<BlockButtonAction>(REPLY_ACTIONS.sendAnyway, async ({ ack, body, action, respond, client }) => {
    await ack();
    const replyId = caseIdFrom(action.value);
    if (!replyId) return;
    if (!(await clickAllowed(ctx, { body, client }, undefined, { action: 'reply' }))) return;
    const [row] = await ctx.db
      .select({
        reply: replies,
        platform: cases.platform,
        sourceKey: cases.sourceKey,
        conversationId: cases.conversationId,
        replyMode: cases.replyMode,
      })
      .from(replies)
      .innerJoin(cases, eq(cases.id, replies.caseId))
      .where(eq(replies.id, replyId));
    if (!row) return;
    const findings = checkTone(row.reply.text, replyTarget(row), ctx.tone).map((f) => f.rule);
    const result = await sendAnyway(ctx.db, ctx.clock, {
      replyId,
      userId: body.user.id,
      delay: ctx.config.replyDelay,
      findings,
    });
    if (result.kind !== 'ok') {
      await respond({ replace_original: true, response_type: 'ephemeral', text: refusal(result, 'send') });
      return;
    }
    ctx.logger.info(
      { caseId: result.reply.caseId, replyId, userId: body.user.id, findings },
      'tone check overridden',
    );
    ctx.deliverAt(result.reply.sendAt);
    await respond({
      replace_original: true,
      response_type: 'ephemeral',
      ...undoNotice(result.reply, platformLabel(row.platform, row.sourceKey), ctx.config.replyDelay),
    });
  });

  app.action<BlockButtonAction>(REPLY_ACTIONS.retry, async ({ ack, body, action, client }) => {
    await ack();
    const replyId = caseIdFrom(action.value);
    if (!replyId) return;
    if (!(await clickAllowed(ctx, { body, client }, undefined, { action: 'reply' }))) return;
    const result = await retryReply(ctx.db, ctx.clock, { replyId, userId: body.user.id });
    const channel = body.channel?.id;
    if (result.kind === 'ok') {
      ctx.deliverAt(result.reply.sendAt);
      if (channel) {
        await client.chat.postEphemeral({
          channel,
          user: body.user.id,
          thread_ts: body.message?.thread_ts ?? body.message?.ts,
          text: 'Trying again now. You will see ✅ or another ⚠️ in the thread.',
        });
      }
      return;
    }
    if (!channel) return;
    const [reply] = await ctx.db.select().from(replies).where(eq(replies.id, replyId));
    const text =
      result.kind === 'not_author' && reply
        ? `Only ${mentionUser(reply.authorId)}, who wrote the reply, can retry it.`
        : refusal(result, 'retry');
    await client.chat.postEphemeral({
      channel,
      user: body.user.id,
      thread_ts: body.message?.thread_ts ?? body.message?.ts,
      text,
    });
  });
}
