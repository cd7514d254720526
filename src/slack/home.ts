import type { types } from '@slack/bolt';
import type { HomeCase } from '../care/overview.js';
import { ACTIONS, plain, platformLabel, slackDate } from './case-card.js';
import { fitView, shortName } from './limits.js';
import { escapeText, mentionUser, truncate } from './mrkdwn.js';

const STATE = { ok: '', at_risk: ':large_orange_circle: ', breached: ':red_circle: ' } as const;

function caseBlocks(c: HomeCase, kind: 'mine' | 'unclaimed' | 'escalated'): types.KnownBlock[] {
  const due = c.dueAt ? ` · due ${slackDate(c.dueAt)}` : '';
  const owner = c.ownerId ? ` · ${mentionUser(c.ownerId)}` : '';
  const text = `${STATE[c.slaState]}*#${c.id} ${c.priority}* ${escapeText(shortName(c.authorName))} on ${escapeText(
    platformLabel(c.platform, c.sourceKey),
  )}${owner}${due}\n${escapeText(truncate(c.text.replace(/\s+/g, ' '), 140))}`;
  const id = String(c.id);
  const buttons: types.Button[] =
    kind === 'unclaimed'
      ? [
          { type: 'button', action_id: ACTIONS.claim, text: plain('Claim'), value: id, style: 'primary' },
          { type: 'button', action_id: ACTIONS.escalate, text: plain('Escalate'), value: id },
        ]
      : kind === 'mine'
        ? [
            { type: 'button', action_id: ACTIONS.escalate, text: plain('Escalate'), value: id },
            { type: 'button', action_id: ACTIONS.resolve, text: plain('Resolve'), value: id },
          ]
        : [];
  return [
    // verbatim: Slack must not turn channel names or URLs the customer wrote into links.
    { type: 'section', text: { type: 'mrkdwn', text, verbatim: true } },
    ...(buttons.length
      ? [{ type: 'actions', block_id: `home:${kind}:${id}`, elements: buttons } satisfies types.ActionsBlock]
      : []),
  ];
}

/** The App Home: my cases, unclaimed cases, and cases waiting on my teams. */
export function homeView(
  lists: { mine: HomeCase[]; unclaimed: HomeCase[]; escalated: HomeCase[] },
  help: string,
): types.HomeView {
  const section = (
    title: string,
    cases: HomeCase[],
    kind: 'mine' | 'unclaimed' | 'escalated',
    empty: string,
  ): types.KnownBlock[] => [
    { type: 'header', text: plain(title) },
    ...(cases.length
      ? cases.flatMap((c) => caseBlocks(c, kind))
      : [{ type: 'context', elements: [{ type: 'mrkdwn', text: empty }] } satisfies types.ContextBlock]),
  ];
  return fitView({
    type: 'home',
    blocks: [
      ...section('My cases', lists.mine, 'mine', 'Nothing on your plate.'),
      { type: 'divider' },
      ...section('Unclaimed', lists.unclaimed, 'unclaimed', 'Every case has an owner.'),
      { type: 'divider' },
      ...section('Waiting on my teams', lists.escalated, 'escalated', 'No case is waiting on your teams.'),
      { type: 'divider' },
      { type: 'context', elements: [{ type: 'mrkdwn', text: help }] },
    ],
  });
}
