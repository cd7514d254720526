import type { App, BlockButtonAction, BlockStaticSelectAction } from '@slack/bolt';
import { setPriority } from '../../care/case-lifecycle.js';
import { claimCase, takeOver } from '../../care/case-ownership.js';
import type { Priority } from '../../care/priority.js';
import { ACTIONS, plain } from '../../slack/case-card.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Claim, the take-over offered to a second claimer, and the card's priority select. */
export function registerClaimCase(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(ACTIONS.claim, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'claim' }))) return;
    const userId = body.user.id;
    const channel = body.channel?.id;
    const tell = async (content: { text: string; blocks?: unknown[] }) => {
      if (channel) {
        await client.chat.postEphemeral({
          channel,
          user: userId,
          thread_ts: body.message?.ts,
          ...content,
        } as never);
      }
    };
    const result = await claimCase(ctx.db, ctx.clock, caseId, userId);
    if (result.kind === 'claimed') {
      ctx.logger.info({ caseId, userId }, 'case claimed');
      ctx.kickSync();
      return;
    }
    if (result.kind === 'owned_by_other') {
      const text = `${mentionUser(result.ownerId)} already owns case #${caseId}. Ask them in the thread if you want to help, or take it over.`;
      await tell({
        text,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text } },
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                action_id: ACTIONS.takeOver,
                text: plain('Take over'),
                value: String(caseId),
                confirm: {
                  title: plain('Take over this case?'),
                  text: {
                    type: 'mrkdwn',
                    text: `${mentionUser(result.ownerId)} will be told in the thread.`,
                  },
                  confirm: plain('Take over'),
                  deny: plain('Cancel'),
                },
              },
            ],
          },
        ],
      });
      return;
    }
    await tell({
      text:
        result.kind === 'already_owner'
          ? `You already own case #${caseId}.`
          : result.kind === 'resolved'
            ? `Case #${caseId} is resolved.`
            : `Case #${caseId} no longer exists.`,
    });
  });

  app.action<BlockButtonAction>(ACTIONS.takeOver, async ({ ack, body, action, respond, client }) => {
    await ack();
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
  });

  app.action<BlockStaticSelectAction>(ACTIONS.priority, async ({ ack, body, action, client }) => {
    await ack();
    const caseId = caseIdFrom(body.actions[0]?.block_id?.split(':')[1]);
    const priority = action.selected_option?.value as Priority | undefined;
    if (!caseId || !priority || !['P1', 'P2', 'P3'].includes(priority)) return;
    if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'priority' }))) return;
    const result = await setPriority(ctx.db, ctx.clock, {
      caseId,
      priority,
      userId: body.user.id,
      sla: ctx.sla,
    });
    if (result.kind === 'changed') {
      ctx.logger.info({ caseId, priority, userId: body.user.id }, 'priority changed');
      ctx.kickSync();
    }
  });
}
