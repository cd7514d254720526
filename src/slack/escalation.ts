import type { types } from '@slack/bolt';
import type { EscalationRow } from '../care/records.js';
import type { Team } from '../care/teams.js';
import { plain, slackDate } from './case-card.js';
import { fitMessage, fitView, type SlackMessage } from './limits.js';
import { escapeText, mentionUser, mentionUsergroup, quoteWithin } from './mrkdwn.js';

export const ESCALATE_VIEW = 'case_escalate_submit';
export const ESCALATE_BLOCKS = {
  team: 'escalate_team',
  urgency: 'escalate_urgency',
  note: 'escalate_note',
} as const;
export const ESCALATE_ELEMENTS = { team: 'team', urgency: 'urgency', note: 'note' } as const;

export const ESCALATION_ACTIONS = { acknowledge: 'escalation_ack', answer: 'escalation_answer' } as const;
export const ANSWER_VIEW = 'escalation_answer_submit';
export const ANSWER_BLOCK = 'escalation_answer';
export const ANSWER_ELEMENT = 'answer';

/** How a team is pinged: its user group if it has one, else its listed people. */
export function teamMention(team: Team): string {
  if (team.usergroup) return mentionUsergroup(team.usergroup);
  if (team.users?.length) return team.users.map(mentionUser).join(' ');
  return `*${escapeText(team.name)}*`;
}

/** The modal that asks which teams to pull in, how urgently, and why. */
export function escalateModal(caseId: number, teams: Team[]): types.ModalView {
  if (teams.length === 0) {
    return {
      type: 'modal',
      title: plain('Escalate'),
      close: plain('Close'),
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: 'No escalation teams are set up yet. Add them under `teams:` in carebot.config.yaml, e.g. `- { key: pr, name: PR, usergroup: S0123ABCD }`, and restart carebot.',
          },
        },
      ],
    };
  }
  return fitView({
    type: 'modal',
    callback_id: ESCALATE_VIEW,
    private_metadata: String(caseId),
    title: plain('Escalate'),
    submit: plain('Escalate'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: ESCALATE_BLOCKS.team,
        label: plain('Teams'),
        element: {
          type: 'multi_static_select',
          action_id: ESCALATE_ELEMENTS.team,
          placeholder: plain('Who should help?'),
          options: teams.map((t) => ({ text: plain(t.name.slice(0, 75)), value: t.key })),
        },
      },
      {
        type: 'input',
        block_id: ESCALATE_BLOCKS.urgency,
        label: plain('Urgency'),
        optional: true,
        element: {
          type: 'radio_buttons',
          action_id: ESCALATE_ELEMENTS.urgency,
          initial_option: { text: plain('Normal'), value: 'normal' },
          options: [
            { text: plain('Normal'), value: 'normal' },
            { text: plain('Urgent: it could become a crisis'), value: 'urgent' },
          ],
        },
      },
      {
        type: 'input',
        block_id: ESCALATE_BLOCKS.note,
        label: plain('What do you need from them?'),
        element: {
          type: 'plain_text_input',
          action_id: ESCALATE_ELEMENTS.note,
          multiline: true,
          max_length: 2000,
        },
      },
    ],
  });
}

/** The thread message that pulls a team in, with Acknowledge and Answer for its members. */
export function escalationMessage(input: { team: Team; escalation: EscalationRow }): SlackMessage {
  const e = input.escalation;
  const urgent = e.urgency === 'urgent' ? ':rotating_light: *Urgent* ' : '';
  const by = e.requestedBy === 'carebot' ? 'carebot' : mentionUser(e.requestedBy);
  const text = `${urgent}${teamMention(input.team)} ${by} needs ${escapeText(input.team.name)} on this case:\n${quoteWithin(e.note, 2500)}`;
  const status = e.answeredAt
    ? `:speech_balloon: Answered by ${mentionUser(e.answeredBy ?? '')} ${slackDate(e.answeredAt)}`
    : e.acknowledgedAt
      ? `:eyes: Acknowledged by ${mentionUser(e.acknowledgedBy ?? '')} ${slackDate(e.acknowledgedAt)}`
      : `Waiting for ${escapeText(input.team.name)} since ${slackDate(e.createdAt)}`;
  const id = String(e.id);
  const buttons: types.Button[] = [
    ...(e.acknowledgedAt
      ? []
      : [
          {
            type: 'button',
            action_id: ESCALATION_ACTIONS.acknowledge,
            text: plain('Acknowledge'),
            value: id,
          } satisfies types.Button,
        ]),
    ...(e.answeredAt
      ? []
      : [
          {
            type: 'button',
            action_id: ESCALATION_ACTIONS.answer,
            text: plain('Answer'),
            value: id,
          } satisfies types.Button,
        ]),
  ];
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: status }] },
      ...(buttons.length
        ? [{ type: 'actions', block_id: `escalation:${id}`, elements: buttons } satisfies types.ActionsBlock]
        : []),
    ],
  });
}

/** The Answer modal: what the team wants the owner (and, through them, the customer) to know. */
export function answerModal(escalationId: number, teamName: string): types.ModalView {
  return fitView({
    type: 'modal',
    callback_id: ANSWER_VIEW,
    private_metadata: String(escalationId),
    title: plain('Answer'),
    submit: plain('Send to the owner'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: ANSWER_BLOCK,
        label: plain(`${teamName.slice(0, 60)}'s answer`),
        hint: plain('Shown to the case owner in the thread; it does not go to the customer.'),
        element: { type: 'plain_text_input', action_id: ANSWER_ELEMENT, multiline: true, max_length: 3000 },
      },
    ],
  });
}
