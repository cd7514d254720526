import type { types } from '@slack/bolt';
import { claimCase as claim } from '../../care/case-ownership.js';
import { ACTIONS, plain } from '../../slack/case-card.js';
import type { SlackMessage } from '../../slack/limits.js';
import { mentionUser } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Claim on a case card or in the App Home; a second claimer is offered to take the case over. */
export async function claimCase({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'claim' }))) return;
  const userId = body.user.id;
  const channel = body.channel?.id;
  const tell = async (content: { text: string; blocks?: types.KnownBlock[] }) => {
    if (channel) {
      await client.chat.postEphemeral({ channel, user: userId, thread_ts: body.message?.ts, ...content });
    }
  };
  const result = await claim(ctx.db, ctx.clock, caseId, userId);
  if (result.kind === 'claimed') {
    ctx.logger.info({ caseId, userId }, 'case claimed');
    ctx.kickSync();
    return;
  }
  if (result.kind === 'owned_by_other') {
    await tell(takeOverOffer(caseId, result.ownerId));
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
}

function takeOverOffer(caseId: number, ownerId: string): SlackMessage {
  const text = `${mentionUser(ownerId)} already owns case #${caseId}. Ask them in the thread if you want to help, or take it over.`;
  return {
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
              text: { type: 'mrkdwn', text: `${mentionUser(ownerId)} will be told in the thread.` },
              confirm: plain('Take over'),
              deny: plain('Cancel'),
            },
          },
        ],
      },
    ],
  };
}
