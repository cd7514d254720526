import type { Team } from '../config.js';
import { plain } from './case-card.js';
import { escapeText, mentionUser, mentionUsergroup, quote } from './mrkdwn.js';

export const ESCALATE_VIEW = 'case_escalate_submit';
export const ESCALATE_BLOCKS = { team: 'escalate_team', note: 'escalate_note' } as const;
export const ESCALATE_ELEMENTS = { team: 'team', note: 'note' } as const;

/** How a team is pinged: its user group if it has one, else its listed people. */
export function teamMention(team: Team): string {
  if (team.usergroup) return mentionUsergroup(team.usergroup);
  if (team.users?.length) return team.users.map(mentionUser).join(' ');
  return `*${escapeText(team.name)}*`;
}

/** The modal that asks which team to pull in and why. */
export function escalateModal(caseId: number, teams: Team[]) {
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
  return {
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
        label: plain('Team'),
        element: {
          type: 'static_select',
          action_id: ESCALATE_ELEMENTS.team,
          placeholder: plain('Who should help?'),
          options: teams.map((t) => ({ text: plain(t.name.slice(0, 75)), value: t.key })),
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
  };
}

/** The thread message that pulls the team in. */
export function escalationMessage(input: { team: Team; note: string; requestedBy: string }) {
  const text = `${teamMention(input.team)} ${mentionUser(input.requestedBy)} needs ${escapeText(input.team.name)} on this case:\n${quote(input.note)}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
