import type { types } from '@slack/bolt';
import type { ReplyRow } from '../care/records.js';
import type { ReplyChange } from '../care/replies.js';
import type { ToneFinding } from '../care/tone.js';
import { plain } from './case-card.js';
import { fitMessage, type SlackMessage } from './limits.js';
import { escapeText, link, mentionUser, quoteWithin, truncate } from './mrkdwn.js';

export const REPLY_ACTIONS = {
  cancel: 'reply_cancel',
  sendAnyway: 'reply_send_anyway',
  retry: 'reply_retry',
  /** A trainee's held reply (DESIGN.md, "Workflow"): approve, edit before approving, or reject. */
  approve: 'reply_approve',
  edit: 'reply_edit',
  reject: 'reply_reject',
} as const;

/** A reply written in a modal has no Slack message of its own; its origin ts says so. */
export const isModalOrigin = (slackTs: string) => slackTs.startsWith('modal:');

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

/** The author's private "sending in 10 s" notice, with its Cancel button. */
export function undoNotice(reply: ReplyRow, where: string, delayMs: number): SlackMessage {
  const text = `Sending to ${escapeText(where)} in ${seconds(delayMs)} s. Edit your message to change it, delete it or press Cancel to stop it.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:outbox_tray: ${text}` } },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: REPLY_ACTIONS.cancel, text: plain('Cancel'), value: String(reply.id) },
        ],
      },
    ],
  });
}

/** The author's private notice that the tone check held the reply. */
export function heldNotice(reply: ReplyRow, findings: ToneFinding[]): SlackMessage {
  const reasons = findings.map((f) => `• ${escapeText(f.message)}`).join('\n');
  const text = `Held before sending:\n${reasons}\nEdit your message to fix it, or send it as it is.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:hand: ${text}` } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: REPLY_ACTIONS.sendAnyway,
            text: plain('Send anyway'),
            value: String(reply.id),
            style: 'danger',
          },
          { type: 'button', action_id: REPLY_ACTIONS.cancel, text: plain('Cancel'), value: String(reply.id) },
        ],
      },
    ],
  });
}

export const NOTE_NOTICE = 'Saved as a note; claim the case to answer the customer.';

/** The private notice for a reply kept as a note, naming the owner when someone else has the case. */
export function noteNotice(ownerId: string | null): string {
  return ownerId
    ? `Saved as a note; ${mentionUser(ownerId)} owns this case and answers the customer.`
    : NOTE_NOTICE;
}

/** The ✅ line in the thread once a reply reached the customer. */
export function sentMessage(reply: ReplyRow, where: string): SlackMessage {
  if (reply.kind === 'csat') return ratingQuestionMessage(reply, where, 'sent');
  const view = link(reply.externalUrl, `View on ${where}`);
  const note = reply.deliveryNote ? ` · ${escapeText(truncate(reply.deliveryNote, 300))}` : '';
  const line = `:white_check_mark: Sent to ${escapeText(where)} by ${mentionUser(reply.authorId)}${view ? ` · ${view}` : ''}${note}`;
  const blocks: types.KnownBlock[] = [];
  if (isModalOrigin(reply.slackTs)) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: quoteWithin(reply.text, 2900) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: line }] });
  return fitMessage({ text: `Sent to ${escapeText(where)}`, blocks });
}

/** The ⚠️ message in the thread when a reply could not be delivered, with a Retry button. */
export function failedMessage(reply: ReplyRow, where: string): SlackMessage {
  if (reply.kind === 'csat') return ratingQuestionMessage(reply, where, 'failed');
  const reason = escapeText(reply.lastError ?? 'unknown error');
  const text = `:warning: ${mentionUser(reply.authorId)} your reply did not reach the customer on ${escapeText(where)}: ${reason}.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      ...(isModalOrigin(reply.slackTs)
        ? [
            {
              type: 'section',
              text: { type: 'mrkdwn', text: quoteWithin(reply.text, 2900) },
            } satisfies types.SectionBlock,
          ]
        : []),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'Fix the cause (or ask whoever runs the receiving side), then press Retry.',
          },
        ],
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: REPLY_ACTIONS.retry, text: plain('Retry'), value: String(reply.id) },
        ],
      },
    ],
  });
}

/** Why a Cancel, Send anyway or Retry on a reply did nothing; `what` is the verb ("cancel"). */
export function replyRefusal(result: Exclude<ReplyChange, { kind: 'ok' }>, what: string): string {
  switch (result.kind) {
    case 'not_author':
      return `Only the person who wrote the reply (or approved it) can ${what} it.`;
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

/**
 * The thread's line about carebot's own rating question: what it asked, in the team's words, or why
 * it could not (no Retry: the customer is asked once at most, and a missing question harms nobody).
 */
function ratingQuestionMessage(reply: ReplyRow, where: string, outcome: 'sent' | 'failed'): SlackMessage {
  const line =
    outcome === 'sent'
      ? `:speech_balloon: Asked the customer how we did on ${escapeText(where)}:`
      : `:warning: Could not ask the customer how we did on ${escapeText(where)}: ${escapeText(reply.lastError ?? 'unknown error')}. carebot does not try again.`;
  return fitMessage({
    text: outcome === 'sent' ? 'Asked the customer how we did' : 'Could not ask the customer how we did',
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: line } },
      { type: 'section', text: { type: 'mrkdwn', text: quoteWithin(reply.text, 2900) } },
    ],
  });
}
