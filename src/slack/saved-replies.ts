import type { types } from '@slack/bolt';
import type { SavedReplyRow } from '../care/records.js';
import { plain } from './case-card.js';
import { fitView } from './limits.js';
import { escapeText, truncate } from './mrkdwn.js';

export const REPLY_VIEW = 'case_reply_submit';
export const SAVED_REPLIES_VIEW = 'saved_replies_manage';
export const SAVED_REPLY_EDITOR_VIEW = 'saved_reply_save';

export const SAVED_REPLY_ACTIONS = {
  pick: 'saved_reply_pick',
  add: 'saved_reply_add',
  edit: 'saved_reply_edit',
  delete: 'saved_reply_delete',
} as const;

/** Block ids of the reply modal. The text block's id changes with each pick, so Slack shows the new text. */
export const REPLY_BLOCKS = { pick: 'reply_pick', textPrefix: 'reply_text' } as const;
export const REPLY_TEXT_ELEMENT = 'text';
export const EDITOR_BLOCKS = { title: 'saved_title', text: 'saved_text' } as const;
export const EDITOR_ELEMENTS = { title: 'title', text: 'text' } as const;

const VARIABLES_HELP = 'Variables: {first_name}, {name}, {handle}, {agent_name}, {case_id}';

export interface ReplyModalState {
  caseId: number;
  savedReplyId?: number | undefined;
}

/** The Reply modal: pick a saved reply (optional), edit the text, send through the usual checks. */
export function replyModal(
  state: ReplyModalState,
  saved: SavedReplyRow[],
  text = '',
  where = 'the customer',
): types.ModalView {
  const blocks: types.KnownBlock[] = [];
  if (saved.length > 0) {
    blocks.push({
      type: 'section',
      block_id: REPLY_BLOCKS.pick,
      text: { type: 'mrkdwn', text: '*Start from a saved reply*' },
      accessory: {
        type: 'static_select',
        action_id: SAVED_REPLY_ACTIONS.pick,
        placeholder: plain('Saved replies'),
        options: saved
          .slice(0, 100)
          .map((r) => ({ text: plain(truncate(r.title, 75)), value: String(r.id) })),
        ...(state.savedReplyId
          ? (() => {
              const chosen = saved.find((r) => r.id === state.savedReplyId);
              return chosen
                ? { initial_option: { text: plain(truncate(chosen.title, 75)), value: String(chosen.id) } }
                : {};
            })()
          : {}),
      },
    });
  }
  blocks.push({
    type: 'input',
    block_id: `${REPLY_BLOCKS.textPrefix}:${state.savedReplyId ?? 0}`,
    label: plain(`Reply to ${where}`),
    element: {
      type: 'plain_text_input',
      action_id: REPLY_TEXT_ELEMENT,
      multiline: true,
      max_length: 3000,
      ...(text ? { initial_value: text } : {}),
    },
    hint: plain('It goes through the tone check and the undo window, like a reply typed in the thread.'),
  });
  return fitView({
    type: 'modal',
    callback_id: REPLY_VIEW,
    private_metadata: JSON.stringify(state),
    title: plain('Reply'),
    submit: plain('Send'),
    close: plain('Cancel'),
    blocks,
  });
}

/** The text typed in the Reply modal, wherever its (changing) block id is. */
export function replyTextFrom(values: Record<string, Record<string, { value?: string | null }>>): string {
  for (const [blockId, block] of Object.entries(values)) {
    if (blockId.startsWith(REPLY_BLOCKS.textPrefix)) return block[REPLY_TEXT_ELEMENT]?.value ?? '';
  }
  return '';
}

export function parseReplyState(metadata: string): ReplyModalState | undefined {
  try {
    const value = JSON.parse(metadata) as ReplyModalState;
    return Number.isSafeInteger(value.caseId) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `/care replies`: the list, with Add, Edit and Delete. */
export function savedRepliesModal(saved: SavedReplyRow[]): types.ModalView {
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `Approved answers for common problems. ${VARIABLES_HELP}` },
      accessory: { type: 'button', action_id: SAVED_REPLY_ACTIONS.add, text: plain('Add'), style: 'primary' },
    },
    { type: 'divider' },
  ];
  if (saved.length === 0)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'No saved replies yet.' }] });
  for (const r of saved.slice(0, 45)) {
    blocks.push(
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${escapeText(truncate(r.title, 150))}* · used ${r.uses}×\n${escapeText(truncate(r.text, 280))}`,
        },
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: SAVED_REPLY_ACTIONS.edit, text: plain('Edit'), value: String(r.id) },
          {
            type: 'button',
            action_id: SAVED_REPLY_ACTIONS.delete,
            text: plain('Delete'),
            value: String(r.id),
            style: 'danger',
            confirm: {
              title: plain('Delete saved reply?'),
              text: plain(`“${truncate(r.title, 100)}” will no longer be offered.`),
              confirm: plain('Delete'),
              deny: plain('Keep'),
            },
          },
        ],
      },
    );
  }
  return fitView({
    type: 'modal',
    callback_id: SAVED_REPLIES_VIEW,
    title: plain('Saved replies'),
    close: plain('Done'),
    blocks,
  });
}

/** Adding or editing one saved reply. */
export function savedReplyEditor(existing?: SavedReplyRow): types.ModalView {
  return fitView({
    type: 'modal',
    callback_id: SAVED_REPLY_EDITOR_VIEW,
    private_metadata: existing ? String(existing.id) : '',
    title: plain(existing ? 'Edit saved reply' : 'New saved reply'),
    submit: plain('Save'),
    close: plain('Back'),
    blocks: [
      {
        type: 'input',
        block_id: EDITOR_BLOCKS.title,
        label: plain('Title'),
        element: {
          type: 'plain_text_input',
          action_id: EDITOR_ELEMENTS.title,
          max_length: 150,
          ...(existing ? { initial_value: existing.title } : {}),
        },
      },
      {
        type: 'input',
        block_id: EDITOR_BLOCKS.text,
        label: plain('Text'),
        hint: plain(VARIABLES_HELP),
        element: {
          type: 'plain_text_input',
          action_id: EDITOR_ELEMENTS.text,
          multiline: true,
          max_length: 3000,
          ...(existing ? { initial_value: existing.text } : {}),
        },
      },
    ],
  });
}
