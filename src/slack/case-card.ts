import type { types } from '@slack/bolt';
import type { CaseView } from '../care/case-view.js';
import { MAX_FACT_LENGTH, MAX_FACTS } from '../care/inbound.js';
import { canMoveToPrivate, capabilities, platformInfo } from '../care/platforms.js';
import { type Team, teamByKey } from '../care/teams.js';
import { canWaitOnCustomer } from '../care/waiting.js';
import { customerBlocks } from './customer-line.js';
import { fitMessage, fitText, fitUrl, LIMITS, type SlackMessage, shortName } from './limits.js';
import { escapeText, link, mentionUser, quoteWithin, truncate } from './mrkdwn.js';

// Slack allows 3,000 characters in a section's text; the quote leaves room for the `>` prefixes.
const MAX_QUOTED = 2_500;

export const ACTIONS = {
  claim: 'case_claim',
  unclaim: 'case_unclaim',
  escalate: 'case_escalate',
  reply: 'case_reply',
  resolve: 'case_resolve',
  reopen: 'case_reopen',
  /** Forums and blogs: the agent answered on the site itself. */
  repliedOnSite: 'case_replied_on_site',
  /** Move a public conversation to private messages (X DMs). */
  moveToPrivate: 'case_dm',
  /** The priority select on the card (value: P1, P2 or P3; the block id carries the case id). */
  priority: 'case_priority',
  /** Confirmed from the ephemeral offered to a second claimer. */
  takeOver: 'case_take_over',
  /** The link button to the original post (where carebot cannot reply); only acknowledged. */
  openOriginal: 'case_open_original',
  /** The customer's earlier cases, in a modal (DESIGN.md, "Workflow"). */
  history: 'case_history',
  /** Mark the case as waiting on the customer: its SLA clocks pause. */
  waiting: 'case_waiting',
  /** End the wait on the customer (undoes `waiting`): the SLA clocks run again. */
  notWaiting: 'case_not_waiting',
  /** In the case's menu: link this author to the same person on another platform. */
  samePerson: 'case_same_person',
} as const;

const PRIORITY_LABEL = { P1: ':small_red_triangle: P1', P2: ':small_orange_diamond: P2', P3: 'P3' } as const;

/** A human name for where a case came from: `webhook:forum` reads as "forum". Not escaped. */
export function platformLabel(platform: string, sourceKey: string): string {
  const prefix = `${platform}:`;
  if (platformInfo(platform).namedBySource && sourceKey.startsWith(prefix))
    return sourceKey.slice(prefix.length);
  return platformName(platform);
}

/** How a platform is named to people ("X", "Facebook"); unknown ones by their key. Not escaped. */
export function platformName(platform: string): string {
  return platformInfo(platform).label;
}

/** Who wrote, as shown: name (or handle, or id), cut to a readable length before escaping. */
export function authorName(m: { authorName: string | null; authorHandle: string | null; authorId: string }) {
  return shortName(m.authorName || m.authorHandle || m.authorId) || 'someone';
}

function authorLine(view: CaseView): string {
  const m = view.firstMessage;
  const name = authorName(m);
  const handle = m.authorHandle ? shortName(m.authorHandle) : '';
  const handlePart = handle && handle !== name ? ` (@${escapeText(handle)})` : '';
  // A profile URL too long to link is left out; the name is shown in bold instead.
  return `${link(m.authorUrl, name) ?? `*${escapeText(name)}*`}${handlePart}`;
}

/**
 * The first section of a card: who wrote, where, and what, within a section's 3,000 characters.
 * The quote gets whatever room the author line leaves (at least 1,000 of it).
 */
function cardHead(head: string, text: string): string {
  const line = fitText(head, LIMITS.sectionText - 1_000);
  return `${line}\n${quoteWithin(text, Math.min(MAX_QUOTED, LIMITS.sectionText - line.length - 1))}`;
}

/** 1234 → "1,234"; 56789 → "56.8k"; 1234567 → "1.2M". */
export function formatCount(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
  if (n >= 10_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return n.toLocaleString('en-US');
}

function statusLine(view: CaseView): string {
  const c = view.case;
  if (c.status === 'resolved') return ':white_check_mark: Resolved';
  const sla =
    c.slaState === 'breached'
      ? ':red_circle: SLA breached · '
      : c.slaState === 'at_risk'
        ? ':large_orange_circle: SLA at risk · '
        : '';
  return `${sla}${ownerLine(c)}`;
}

function ownerLine(c: CaseView['case']): string {
  if (c.ownerId) return `:raising_hand: Claimed by ${mentionUser(c.ownerId)}`;
  return ':new: Unclaimed';
}

/** The case card: the parent message of the case's thread, kept up to date by `chat.update`. */
export function caseCard(view: CaseView, teams: Team[]): SlackMessage {
  const c = view.case;
  const m = view.firstMessage;
  const where = escapeText(platformLabel(c.platform, c.sourceKey));
  const original = link(m.url, 'View original');
  const teamNames = view.escalatedTo.map((key) => escapeText(teamByKey(teams, key).name));
  const context = [
    `*${where}*`,
    `Case #${c.id}`,
    `${PRIORITY_LABEL[c.priority]}${c.priorityReasons.length ? ` (${escapeText(truncate(c.priorityReasons.join('; '), 200))})` : ''}`,
    statusLine(view),
    ...(m.authorFollowers !== null
      ? [`:busts_in_silhouette: ${formatCount(m.authorFollowers)} followers`]
      : []),
    ...platformFacts(m.facts),
    ...(view.messageCount > 1 ? [`${view.messageCount} messages`] : []),
    `Customer wrote ${slackDate(c.lastCustomerMessageAt)}`,
    ...(c.lastReplyAt ? [`Last reply ${slackDate(c.lastReplyAt)}`] : []),
    ...(c.status === 'open' && c.waitingSince
      ? [`:hourglass: Waiting on the customer since ${slackDate(c.waitingSince)}`]
      : deadlineLines(c)),
    ...(teamNames.length ? [`:rotating_light: Escalated to ${teamNames.join(', ')}`] : []),
    ...view.waiting.map(
      (w) =>
        `:hourglass: Waiting on ${escapeText(teamByKey(teams, w.teamKey).name)} since ${slackDate(w.since)}`,
    ),
    ...(view.incident?.linked
      ? [
          `:fire: Incident #${view.incident.linked.id}: ${escapeText(truncate(view.incident.linked.title, 80))}`,
        ]
      : []),
    ...(c.previousCaseId ? [`Follow-up of case #${c.previousCaseId}`] : []),
    ...(c.replyMode === 'private' || platformInfo(c.platform).isDirect?.(c.conversationId)
      ? [':lock: Replies go by DM']
      : []),
  ];
  const id = String(c.id);
  const can = capabilities(c.platform);
  const openOnSite = fitUrl(m.url);
  const replyButtons: types.Button[] = can.reply
    ? [{ type: 'button', action_id: ACTIONS.reply, text: plain('Reply'), value: id }]
    : [
        ...(openOnSite
          ? [
              {
                type: 'button',
                action_id: ACTIONS.openOriginal,
                text: plain('Open to reply'),
                url: openOnSite,
              } satisfies types.Button,
            ]
          : []),
        { type: 'button', action_id: ACTIONS.repliedOnSite, text: plain('I replied on the site'), value: id },
      ];
  const privateButton: types.Button[] =
    c.replyMode === 'public' && canMoveToPrivate(c.platform, c.conversationId)
      ? [{ type: 'button', action_id: ACTIONS.moveToPrivate, text: plain('Move to DM'), value: id }]
      : [];
  const buttons: types.ActionsBlockElement[] =
    c.status === 'resolved'
      ? [{ type: 'button', action_id: ACTIONS.reopen, text: plain('Reopen'), value: id }]
      : [
          c.ownerId
            ? { type: 'button', action_id: ACTIONS.unclaim, text: plain('Unclaim'), value: id }
            : { type: 'button', action_id: ACTIONS.claim, text: plain('Claim'), value: id, style: 'primary' },
          ...replyButtons,
          { type: 'button', action_id: ACTIONS.escalate, text: plain('Escalate'), value: id },
          ...waitingButton(c),
          { type: 'button', action_id: ACTIONS.resolve, text: plain('Resolve'), value: id },
          ...privateButton,
          // While an incident is open, a case that is not part of one can join it.
          ...(view.incident?.anyOpen && !view.incident.linked
            ? [
                {
                  type: 'button',
                  action_id: 'case_link_incident',
                  text: plain('Link to incident'),
                  value: id,
                } satisfies types.Button,
              ]
            : []),
          {
            type: 'static_select',
            action_id: ACTIONS.priority,
            placeholder: plain('Priority'),
            initial_option: { text: plain(c.priority), value: c.priority },
            options: (['P1', 'P2', 'P3'] as const).map((p) => ({ text: plain(p), value: p })),
          },
        ];
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      // verbatim: Slack must not turn channel names or URLs the customer wrote into links.
      text: { type: 'mrkdwn', text: cardHead(`${authorLine(view)} on ${where}:`, m.text), verbatim: true },
    },
    // Block Kit allows 10 context elements; the facts go into three, joined, whatever the case holds.
    { type: 'context', elements: [...contextElements(context), ...(original ? [mrkdwnText(original)] : [])] },
  ];
  blocks.push({ type: 'actions', block_id: `case_actions:${c.id}`, elements: buttons });
  if (view.customer) blocks.push(...customerBlocks(c.id, c.openedAt, view.customer, ACTIONS));
  // The notification text: escaped too, since Slack renders it in notifications and on old clients.
  const text = `Case #${c.id} from ${escapeText(authorName(m))} on ${where}: ${escapeText(truncate(m.text, 200))}`;
  return fitMessage({ text, blocks });
}

/**
 * The card posted instead when Slack refused the full one (`invalid_blocks` and the like): no
 * customer text, nothing that could be too long, but the case number, the platform, a link to the
 * original when it fits, and the buttons, so the case can still be claimed and answered.
 */
export function fallbackCaseCard(view: CaseView, teams: Team[], reason: string): SlackMessage {
  const full = caseCard(view, teams);
  const c = view.case;
  const where = escapeText(truncate(platformLabel(c.platform, c.sourceKey), 40));
  const original = link(view.firstMessage.url, 'View original');
  const actions = full.blocks.find((b) => b.type === 'actions');
  return fitMessage({
    text: `Case #${c.id} on ${where}`,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*Case #${c.id}* on *${where}*: a message Slack could not show (the author name or text is too long or malformed). Open the original to read it.`,
        },
      },
      {
        type: 'context',
        elements: [
          mrkdwnText(
            `${PRIORITY_LABEL[c.priority]} · ${statusLine(view)} · Slack said \`${escapeText(truncate(reason, 60))}\``,
          ),
          ...(original ? [mrkdwnText(original)] : []),
        ],
      },
      ...(actions ? [actions] : []),
    ],
  });
}

/** The thread message posted instead of one Slack refused, so the thread goes on. */
export function fallbackThreadMessage(reason: string): SlackMessage {
  const text = `:warning: carebot had a message for this thread that Slack refused (\`${escapeText(truncate(reason, 60))}\`); see the case history or the original on the platform.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

const mrkdwnText = (text: string): types.MrkdwnElement => ({ type: 'mrkdwn', text });

/** A customer's follow-up, posted in the case's thread. */
export function customerMessage(msg: {
  authorName: string | null;
  authorHandle: string | null;
  authorId: string;
  text: string;
  url: string | null;
  facts?: string[] | null;
}): SlackMessage {
  const name = authorName(msg);
  const original = link(msg.url, 'View original');
  const facts = platformFacts(msg.facts);
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: cardHead(`*${escapeText(name)}* wrote:`, msg.text), verbatim: true },
    },
  ];
  const context = [...facts, ...(original ? [original] : [])];
  if (context.length) blocks.push({ type: 'context', elements: contextElements(context) });
  return fitMessage({ text: `${escapeText(name)}: ${escapeText(truncate(msg.text, 200))}`, blocks });
}

/** What the source said matters about a message (a review's stars, app version), escaped. */
function platformFacts(facts: string[] | null | undefined): string[] {
  return (facts ?? []).slice(0, MAX_FACTS).map((f) => escapeText(truncate(f, MAX_FACT_LENGTH)));
}

/** "Waiting on customer" when the agent's answer was the last word; "No longer waiting" while it waits. */
function waitingButton(c: CaseView['case']): types.Button[] {
  const value = String(c.id);
  if (c.status === 'open' && c.waitingSince)
    return [{ type: 'button', action_id: ACTIONS.notWaiting, text: plain('No longer waiting'), value }];
  if (canWaitOnCustomer(c))
    return [{ type: 'button', action_id: ACTIONS.waiting, text: plain('Waiting on customer'), value }];
  return [];
}

/** The running SLA deadlines, in each reader's own time zone. */
function deadlineLines(c: CaseView['case']): string[] {
  if (c.status !== 'open') return [];
  return [
    ...(!c.firstResponseAt && c.firstResponseDueAt
      ? [`First answer due ${slackDate(c.firstResponseDueAt)}`]
      : []),
    ...(c.nextResponseDueAt ? [`Next answer due ${slackDate(c.nextResponseDueAt)}`] : []),
    ...(c.resolutionDueAt ? [`Resolve by ${slackDate(c.resolutionDueAt)}`] : []),
  ];
}

function contextElements(facts: string[]): types.MrkdwnElement[] {
  const groups = [facts.slice(0, 4), facts.slice(4, 8), facts.slice(8)].filter((g) => g.length > 0);
  return groups.map((g) => ({ type: 'mrkdwn', text: fitText(g.join(' · '), 2000) }));
}

/** A time Slack shows in each reader's own time zone, with a UTC fallback for old clients. */
export function slackDate(at: Date): string {
  const unix = Math.floor(at.getTime() / 1000);
  const fallback = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${unix}^{date_short_pretty} {time}|${fallback}>`;
}

export function plain(text: string): types.PlainTextElement {
  return { type: 'plain_text', text, emoji: true };
}

/** The thread note when a customer edits or removes a message on the platform. */
export function customerChangeText(change: {
  kind: 'edited' | 'removed';
  text?: string | undefined;
}): string {
  if (change.kind === 'removed') return ':wastebasket: The customer removed this message on the platform.';
  return `:pencil2: The customer edited their message; it now reads:\n${quoteWithin(change.text ?? '', MAX_QUOTED)}`;
}
