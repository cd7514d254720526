import type { types } from '@slack/bolt';
import { plain, platformName } from './case-card.js';
import { fitView } from './limits.js';
import { escapeText } from './mrkdwn.js';

/** `/care forget <case>`: the confirmation modal, and what the command answers. */

export const FORGET_VIEW = 'care_forget_submit';

export const FORGET_USAGE =
  '`/care forget <case number>` erases what a customer wrote, in every case of theirs on that platform (managers only). Example: `/care forget 42`.';

export const noSuchCaseText = (caseId: number) =>
  `There is no case #${caseId}; nothing was erased. The number is on the case card ("Case #…").`;

export const FORGET_TAMPERED_TEXT =
  'This confirmation does not match the case it was opened for; nothing was erased. Run `/care forget <case number>` again.';

/**
 * Names the case and what will go, never the customer's words: the person confirming may not be
 * the one who read the case, and the modal is no place to show what is about to be erased.
 */
export function forgetModal(preview: {
  caseId: number;
  platform: string;
  cases: number;
  messages: number;
}): types.ModalView {
  const where = escapeText(platformName(preview.platform));
  const others = preview.cases - 1;
  return fitView({
    type: 'modal',
    callback_id: FORGET_VIEW,
    private_metadata: String(preview.caseId),
    title: plain('Forget a customer'),
    submit: plain('Erase'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            `Erase what the customer of *case #${preview.caseId}* (${where}) wrote, in ${
              others > 0
                ? `this case and ${others} other case${others === 1 ? '' : 's'} of theirs`
                : 'this case'
            } (${preview.messages} message${preview.messages === 1 ? '' : 's'}).`,
            '',
            "*Erased*: their messages, name, handle, profile and message links; the replies and notes written in these cases; escalation notes and answers. In Slack, the case cards and thread messages carebot posted will say the content was removed at the customer's request.",
            '*Kept*: case numbers, times, priorities, owners and SLA figures, so `/care-stats` still adds up. The event log records that you erased it, and when.',
            '',
            '*This cannot be undone.*',
          ].join('\n'),
        },
      },
    ],
  });
}

export const forgottenText = (caseId: number, cases: number[], cancelled: number) =>
  `:wastebasket: Erased what the customer of case #${caseId} wrote, in ${cases.length} case${
    cases.length === 1 ? '' : 's'
  } (${cases.map((c) => `#${c}`).join(', ')})${
    cancelled ? `; ${cancelled} repl${cancelled === 1 ? 'y' : 'ies'} waiting to go to them cancelled` : ''
  }. The Slack messages are being updated.`;

/** What the modal turns into once submitted: the outcome, or why nothing was done. */
export function forgetOutcomeModal(text: string): types.ModalView {
  return fitView({
    type: 'modal',
    title: plain('Forget a customer'),
    close: plain('Close'),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  });
}

export const FORGET_STARTED_TEXT =
  ':hourglass_flowing_sand: Erasing. carebot will tell you in a direct message when it is done.';
