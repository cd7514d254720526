import type { types } from '@slack/bolt';
import { COUNT_CAP, type CustomerSummary, type EarlierCases } from '../care/customers.js';
import { fitText } from './limits.js';
import { escapeText, truncate } from './mrkdwn.js';

/**
 * The customer's part of a case card (docs/features/customers.md): VIP, note, links and earlier
 * cases, then the History button and the customer menu. The menu is an overflow whose action id
 * is `case_same_person` (DESIGN.md, "Workflow"); its options carry the item and the case:
 * `link:<case>` ("Same person as…") or `note:<case>` ("Customer note / VIP").
 */

export const CUSTOMER_MENU = { link: 'link', note: 'note' } as const;

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text, emoji: true });

/** "12 days ago", counted back from `at` (the case's opening). */
function ago(then: Date, at: Date): string {
  const minutes = Math.max(0, Math.floor((at.getTime() - then.getTime()) / 60_000));
  if (minutes < 60) return minutes <= 1 ? 'a minute ago' : `${minutes} minutes ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

const OUTCOME: Record<EarlierCases['lastStatus'], string> = { resolved: 'resolved', open: 'still open' };

/**
 * The card's history line: "3 earlier cases, last 12 days ago (resolved)"; "1 earlier case,
 * 2 hours ago (still open)". Ages count back from the case's opening, so the card stays true.
 */
export function earlierCasesText(e: EarlierCases, openedAt: Date): string {
  const when = ago(e.lastOpenedAt, openedAt);
  const what = `(${OUTCOME[e.lastStatus]})`;
  if (e.count === 1) return `1 earlier case, ${when} ${what}`;
  return `${e.count >= COUNT_CAP ? `${COUNT_CAP}+` : e.count} earlier cases, last ${when} ${what}`;
}

/** The customer's facts under the card (VIP, note, links, earlier cases) and their buttons. */
export function customerBlocks(
  caseId: number,
  openedAt: Date,
  s: CustomerSummary,
  actionIds: { history: string; samePerson: string },
): types.KnownBlock[] {
  const facts = [
    ...(s.vip ? [':star: *VIP*'] : []),
    ...(s.earlier ? [`:file_folder: ${earlierCasesText(s.earlier, openedAt)}`] : []),
    ...(s.linked ? [`:link: Same person as ${s.linked} other account${s.linked === 1 ? '' : 's'}`] : []),
  ];
  const note = s.notes.length ? `:memo: ${escapeText(truncate(s.notes.join(' / '), 600))}` : undefined;
  const id = String(caseId);
  const elements: types.ActionsBlockElement[] = [
    ...(s.earlier || s.linked
      ? [
          {
            type: 'button',
            action_id: actionIds.history,
            text: plain('History'),
            value: id,
          } satisfies types.Button,
        ]
      : []),
    {
      type: 'overflow',
      action_id: actionIds.samePerson,
      options: [
        { text: plain('Same person as…'), value: `${CUSTOMER_MENU.link}:${id}` },
        { text: plain('Customer note / VIP'), value: `${CUSTOMER_MENU.note}:${id}` },
      ],
    },
  ];
  const context = [...(facts.length ? [facts.join(' · ')] : []), ...(note ? [note] : [])];
  return [
    ...(context.length
      ? [
          {
            type: 'context',
            elements: context.map((text) => ({ type: 'mrkdwn', text: fitText(text, 2000) })),
          } satisfies types.ContextBlock,
        ]
      : []),
    { type: 'actions', block_id: `case_customer:${caseId}`, elements },
  ];
}
