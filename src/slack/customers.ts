import type { types, webApi } from '@slack/bolt';
import type { HistoryEntry, LinkedAuthor } from '../care/customers.js';
import { COUNT_CAP, MAX_NOTE_LENGTH } from '../care/customers.js';
import { authorName, plain, platformLabel, slackDate } from './case-card.js';
import { fitView } from './limits.js';
import { escapeText, mentionUser, quoteWithin, truncate } from './mrkdwn.js';

/**
 * Knowing the customer on the card and in modals (docs/features/customers.md): the line under the
 * card, the History modal, the "Same person as…" modal and the note/VIP modal.
 *
 * The card's customer menu is an overflow whose action id is `case_same_person` (DESIGN.md,
 * "Workflow"); its options carry what was picked and the case: `link:<case>` or `note:<case>`. A
 * plain button with that action id and the case id as value opens the link modal too.
 */

export const SAME_PERSON_VIEW = 'customer_same_person';
export const CUSTOMER_NOTE_VIEW = 'customer_note';
export const CUSTOMER_BLOCKS = {
  otherCase: 'same_person_case',
  unlink: 'same_person_unlink',
  note: 'customer_note',
  vip: 'customer_vip',
} as const;
export const CUSTOMER_ELEMENTS = {
  otherCase: 'case_number',
  unlink: 'authors',
  note: 'note',
  vip: 'vip',
} as const;

/** At most this many cases in the History modal (a modal holds 100 blocks; one a case). */
export const HISTORY_LIMIT = 45;

/** What a `case_same_person` click asks for: the menu's option value, or a button's case id. */
export function customerMenuChoice(action: {
  type: string;
  value?: string;
  selected_option?: { value: string } | null;
}): { item: 'link' | 'note'; caseId: number } | undefined {
  const raw = action.type === 'overflow' ? action.selected_option?.value : `link:${action.value ?? ''}`;
  const m = /^(link|note):(\d{1,10})$/.exec(raw ?? '');
  if (!m) return undefined;
  const caseId = Number(m[2]);
  return caseId > 0 ? { item: m[1] as 'link' | 'note', caseId } : undefined;
}

/**
 * Permalinks of case threads: one `chat.getPermalink` call gives the workspace's address, and the
 * others follow its documented form (`/archives/<channel>/p<ts without the dot>`), so a long
 * history costs one call within the three seconds a trigger id lives. No link when Slack says no.
 */
export async function threadPermalinks(
  client: webApi.WebClient,
  threads: Array<{ channelId: string; threadTs: string }>,
): Promise<(t: { channelId: string; threadTs: string }) => string | undefined> {
  const first = threads[0];
  if (!first) return () => undefined;
  let base: string | undefined;
  try {
    const res = await client.chat.getPermalink({ channel: first.channelId, message_ts: first.threadTs });
    const m = /^(https:\/\/[^/]+)\/archives\/[^/]+\/p\d+$/.exec(res.permalink ?? '');
    base = m?.[1];
  } catch {
    base = undefined;
  }
  return (t) =>
    base && /^[A-Z0-9]+$/.test(t.channelId) && /^\d+\.\d+$/.test(t.threadTs)
      ? `${base}/archives/${t.channelId}/p${t.threadTs.replace('.', '')}`
      : undefined;
}

/** The History modal: the person's other cases, newest first. */
export function historyModal(
  caseId: number,
  history: { entries: HistoryEntry[]; total: number },
  permalink: (t: { channelId: string; threadTs: string }) => string | undefined,
): types.ModalView {
  const entries = history.entries.slice(0, HISTORY_LIMIT);
  const total = history.total >= COUNT_CAP ? `${COUNT_CAP}+` : String(history.total);
  const header =
    history.total === 0
      ? `No other cases of the customer of case #${caseId}.`
      : `${total} other case${history.total === 1 ? '' : 's'} of the customer of case #${caseId} (and of the accounts linked to them), newest first.`;
  const blocks: types.KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: header } }];
  for (const e of entries) {
    const url = e.thread ? permalink(e.thread) : undefined;
    const title = url ? `<${url}|*Case #${e.caseId}*>` : `*Case #${e.caseId}*`;
    const outcome =
      e.status === 'resolved'
        ? `:white_check_mark: resolved${e.resolvedAt ? ` ${slackDate(e.resolvedAt)}` : ''}`
        : ':large_green_circle: open';
    const owner = e.ownerId ? mentionUser(e.ownerId) : 'unclaimed';
    const where = escapeText(platformLabel(e.platform, e.sourceKey));
    const head = `${title} · ${where} · ${slackDate(e.openedAt)} · ${outcome} · ${owner}`;
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `${head}\n${quoteWithin(truncate(e.firstWords, 150), 600)}`,
        verbatim: true,
      },
    });
  }
  if (history.total > entries.length) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Showing the newest ${entries.length} of ${total}. Older cases are in the channel's history.`,
        },
      ],
    });
  }
  return fitView({ type: 'modal', title: plain('Customer history'), close: plain('Close'), blocks });
}

/** An author of a linked group, for people: "Jane Doe on Facebook". Not escaped. */
export function linkedAuthorLabel(a: LinkedAuthor): string {
  // A customer's platform is the source itself where sources are separate sites (`webhook:forum`).
  const platform = a.platform.split(':')[0] ?? a.platform;
  return `${authorName(a)} on ${platformLabel(platform, a.platform)}`;
}

/** "Same person as…": a case number of the other author to link, and the links to undo. */
export function samePersonModal(caseId: number, linked: LinkedAuthor[]): types.ModalView {
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `Is the customer of case #${caseId} the same person as an author on another platform? Give a case of theirs: history, note and VIP then span both, and \`/care forget\` erases both.`,
      },
    },
    {
      type: 'input',
      block_id: CUSTOMER_BLOCKS.otherCase,
      optional: true,
      label: plain('Case number of the same person'),
      element: {
        type: 'plain_text_input',
        action_id: CUSTOMER_ELEMENTS.otherCase,
        placeholder: plain('e.g. 42'),
        max_length: 12,
      },
    },
  ];
  if (linked.length) {
    blocks.push({
      type: 'input',
      block_id: CUSTOMER_BLOCKS.unlink,
      optional: true,
      label: plain('Unlink (not the same person after all)'),
      element: {
        type: 'checkboxes',
        action_id: CUSTOMER_ELEMENTS.unlink,
        // Slack allows 10 checkboxes; a person with more accounts is unlinked ten at a time.
        options: linked.slice(0, 10).map((a) => ({
          text: plain(truncate(linkedAuthorLabel(a), 70)),
          value: String(a.customerId),
        })),
      },
    });
  }
  return fitView({
    type: 'modal',
    callback_id: SAME_PERSON_VIEW,
    private_metadata: String(caseId),
    title: plain('Same person as…'),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks,
  });
}

/** The customer's note and VIP flag, for the care team to edit. */
export function customerNoteModal(caseId: number, profile: { note: string; vip: boolean; linked: number }) {
  const vipOption = { text: plain('VIP: their new cases start one priority step higher'), value: 'vip' };
  return fitView({
    type: 'modal',
    callback_id: CUSTOMER_NOTE_VIEW,
    private_metadata: String(caseId),
    title: plain('Customer note'),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: CUSTOMER_BLOCKS.note,
        optional: true,
        label: plain('Note for the care team'),
        hint: plain(
          `Shown on every card of this customer${profile.linked ? ' and the accounts linked to them' : ''}. At most ${MAX_NOTE_LENGTH} characters.`,
        ),
        element: {
          type: 'plain_text_input',
          action_id: CUSTOMER_ELEMENTS.note,
          multiline: true,
          max_length: MAX_NOTE_LENGTH,
          ...(profile.note ? { initial_value: profile.note } : {}),
          placeholder: plain('e.g. prefers DMs; journalist at …'),
        },
      },
      {
        type: 'input',
        block_id: CUSTOMER_BLOCKS.vip,
        optional: true,
        label: plain('VIP'),
        element: {
          type: 'checkboxes',
          action_id: CUSTOMER_ELEMENTS.vip,
          options: [vipOption],
          ...(profile.vip ? { initial_options: [vipOption] } : {}),
        },
      },
    ],
  });
}

/** The thread's line for a note or VIP change (the note escaped and quoted). */
export function profileChangeText(userId: string, change: { note?: string; vip?: boolean }): string {
  const lines: string[] = [];
  if (change.note !== undefined) {
    lines.push(
      change.note
        ? `:memo: ${mentionUser(userId)} set the customer note:\n${quoteWithin(change.note, 1_500)}`
        : `:memo: ${mentionUser(userId)} cleared the customer note.`,
    );
  }
  if (change.vip !== undefined) {
    lines.push(
      change.vip
        ? `:star: ${mentionUser(userId)} marked this customer VIP: their new cases start one priority step higher.`
        : `:star: ${mentionUser(userId)} took the VIP flag off this customer.`,
    );
  }
  return lines.join('\n');
}

export const linkedText = (
  userId: string,
  other: { otherCaseId: number; otherPlatform: string; otherSourceKey: string },
) =>
  `:link: ${mentionUser(userId)} linked this customer to the author of case #${other.otherCaseId} (${escapeText(platformLabel(other.otherPlatform, other.otherSourceKey))}) as the same person: history, note and VIP now span both. To undo: the customer menu, "Same person as…", Unlink.`;

export const unlinkedText = (userId: string, authors: LinkedAuthor[]) =>
  `:link: ${mentionUser(userId)} unlinked ${authors.map((a) => `*${escapeText(linkedAuthorLabel(a))}*`).join(', ')} from this customer: not the same person.`;
