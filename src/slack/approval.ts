import type { types } from '@slack/bolt';
import type { ApprovalRequest } from '../care/approval.js';
import type { ReplyRow } from '../care/records.js';
import { toWellFormed } from '../http/well-formed.js';
import { plain } from './case-card.js';
import { fitMessage, fitView, LIMITS, type SlackMessage, segmenter } from './limits.js';
import { escapeText, mentionUser, mentionUsergroup, quoteWithin } from './mrkdwn.js';
import { REPLY_ACTIONS } from './replies.js';

/** The modals of reply approval: the approver's Edit, and Reject's optional note. */
export const APPROVAL_VIEWS = { edit: 'reply_approval_edit', reject: 'reply_approval_reject' } as const;
export const APPROVAL_BLOCKS = {
  text: 'approval_text',
  textElement: 'text',
  note: 'approval_note',
  noteElement: 'note',
} as const;

/** A reject note is for the trainee in the thread: short enough to read, and to fit. */
export const NOTE_MAX = 1_000;
/** How many section blocks a draft may fill in the approval message (Slack allows 50 blocks). */
const DRAFT_SECTIONS = 12;
const SECTION_MAX = LIMITS.sectionText - 100;

/**
 * A draft quoted in full where it fits: escaped, then cut into sections of Slack's size (escaping
 * can make it five times longer), never inside an entity or a grapheme. What does not fit in
 * `sections` is marked as cut, with how much was left out.
 */
export function quoteInSections(text: string, sections = DRAFT_SECTIONS): string[] {
  const out: string[] = [];
  let current = '>';
  let shown = 0;
  for (const { segment } of segmenter.segment(toWellFormed(text))) {
    const piece = segment === '\n' ? '\n>' : escapeText(segment);
    if (current.length + piece.length > SECTION_MAX) {
      out.push(current);
      if (out.length === sections) {
        const left = text.length - shown;
        out[out.length - 1] = `${current}…\n_(${left} more characters not shown; Edit shows the draft)_`;
        return out;
      }
      current = '>';
    }
    current += piece;
    shown += segment.length;
  }
  out.push(current);
  return out;
}

export interface ApprovalMessageInput {
  request: ApprovalRequest;
  reply: ReplyRow;
  /** Where the reply goes ("forum", "X"). */
  where: string;
  /** The case's drafts waiting for approval, this one included when it waits. */
  waiting: number;
}

/**
 * The thread message asking the approvers about a trainee's reply: the draft quoted, the tone
 * check's findings, a flag when the case has more than one draft waiting, and Approve / Edit /
 * Reject. Once decided it shows the outcome instead of the buttons.
 */
export function approvalMessage(input: ApprovalMessageInput): SlackMessage {
  const { reply, request } = input;
  const author = mentionUser(reply.authorId);
  const where = escapeText(input.where);
  const waiting = reply.status === 'awaiting_approval';
  const ask = request.approversUsergroup ? `${mentionUsergroup(request.approversUsergroup)} ` : '';
  const headline = waiting
    ? `:raised_hand: ${ask}${author} is in training: this reply to ${where} waits for approval.`
    : `:raised_hand: ${author}'s reply to ${where} (in training)`;
  const blocks: types.KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: headline } }];
  if (waiting && input.waiting > 1) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `:warning: *${input.waiting} drafts waiting for approval in this case.* Each is decided on its own: approving one does not send the other.`,
      },
    });
  }
  for (const text of quoteInSections(reply.text))
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  if (waiting && request.findings.length > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Tone check: ${request.findings.map(escapeText).join(' · ')}. Approving it as it is holds it for you to send anyway.`,
        },
      ],
    });
  }
  if (waiting) {
    const value = String(reply.id);
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: REPLY_ACTIONS.approve, text: plain('Approve'), value, style: 'primary' },
        { type: 'button', action_id: REPLY_ACTIONS.edit, text: plain('Edit'), value },
        { type: 'button', action_id: REPLY_ACTIONS.reject, text: plain('Reject'), value, style: 'danger' },
      ],
    });
  } else {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: outcomeLine(reply) }] });
  }
  return fitMessage({
    text: waiting ? `A reply by a trainee waits for approval` : `A trainee's reply: ${reply.status}`,
    blocks,
  });
}

/** What became of a trainee's reply, in one line. */
function outcomeLine(reply: ReplyRow): string {
  const by = reply.reviewedBy ? mentionUser(reply.reviewedBy) : 'an approver';
  switch (reply.status) {
    case 'rejected':
      return `:x: Rejected by ${by}; it was not sent.`;
    case 'cancelled':
      return reply.reviewedBy
        ? `:no_entry_sign: Approved by ${by}, then cancelled; it was not sent.`
        : `:no_entry_sign: Withdrawn by ${mentionUser(reply.authorId)}; it was not sent.`;
    case 'held':
      return `:hand: Approved by ${by}; held by the tone check until ${by} sends it anyway or cancels it.`;
    default:
      return `:white_check_mark: Approved by ${by}.`;
  }
}

/** The trainee's private notice: the reply waits, and where they will hear. */
export function awaitingNotice(approversUsergroup: string | null): SlackMessage {
  const who = approversUsergroup ? mentionUsergroup(approversUsergroup) : 'an approver';
  const text = `:hourglass_flowing_sand: You are in training, so this reply waits for approval by ${who} before it goes to the customer. You will be told here. To change it, delete your message and write it again.`;
  return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

/** The thread message telling the trainee their reply was approved. */
export function approvedText(reply: ReplyRow, approverId: string, edited: boolean, delayMs: number): string {
  const lead = `:white_check_mark: ${mentionUser(reply.authorId)} your reply was approved by ${mentionUser(approverId)}`;
  const when =
    reply.status === 'held'
      ? `, and the tone check holds the ${edited ? 'edited ' : ''}text for ${mentionUser(approverId)} to send anyway or cancel.`
      : `; it goes to the customer in ${Math.max(1, Math.round(delayMs / 1000))} s.`;
  return edited ? `${lead} with edits${when}\n${quoteWithin(reply.text, 2_500)}` : `${lead}${when}`;
}

/** The thread message telling the trainee their reply was rejected, with the approver's note. */
export function rejectedText(reply: ReplyRow, approverId: string, note: string): string {
  const lead = `:x: ${mentionUser(reply.authorId)} your reply was not approved by ${mentionUser(approverId)}; it was not sent.`;
  return note ? `${lead}\n${quoteWithin(note, NOTE_MAX + 50)}` : lead;
}

/** Why an Approve, Edit or Reject did nothing: someone decided first, or the case is resolved. */
export function decidedText(reply: ReplyRow): string {
  const by = reply.reviewedBy ? mentionUser(reply.reviewedBy) : undefined;
  switch (reply.status) {
    case 'rejected':
      return `Already rejected by ${by ?? 'an approver'}; nothing was sent.`;
    case 'cancelled':
      return by
        ? `Already approved by ${by} and then cancelled; nothing was sent.`
        : 'The author withdrew this reply; nothing was sent.';
    default:
      return `Already approved by ${by ?? 'an approver'}; nothing more to do.`;
  }
}

export const CASE_RESOLVED_TEXT =
  'This case is resolved, so the reply was not approved. Reopen the case to approve it, or reject it.';

export const DRAFT_TOO_LONG_TEXT = `This draft is longer than the edit box holds (${LIMITS.inputValue.toLocaleString('en')} characters). Approve it as it is, or reject it with a note.`;

/** The approver's Edit: the draft in a text box; submitting approves the edited text. */
export function editModal(reply: ReplyRow): types.ModalView {
  return fitView({
    type: 'modal',
    callback_id: APPROVAL_VIEWS.edit,
    private_metadata: String(reply.id),
    title: plain('Edit and approve'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: APPROVAL_BLOCKS.text,
        label: plain('The trainee’s reply'),
        hint: plain('Approving sends this text after the undo window; the tone check applies to it.'),
        element: {
          type: 'plain_text_input',
          action_id: APPROVAL_BLOCKS.textElement,
          multiline: true,
          max_length: LIMITS.inputValue,
          initial_value: reply.text,
        },
      },
    ],
  });
}

/** Reject: an optional note for the trainee, shown in the thread. */
export function rejectModal(reply: ReplyRow): types.ModalView {
  return fitView({
    type: 'modal',
    callback_id: APPROVAL_VIEWS.reject,
    private_metadata: String(reply.id),
    title: plain('Reject reply'),
    submit: plain('Reject'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: APPROVAL_BLOCKS.note,
        optional: true,
        label: plain('Note for the trainee'),
        hint: plain('Shown in the case thread. The reply is not sent.'),
        element: {
          type: 'plain_text_input',
          action_id: APPROVAL_BLOCKS.noteElement,
          multiline: true,
          max_length: NOTE_MAX,
        },
      },
    ],
  });
}
