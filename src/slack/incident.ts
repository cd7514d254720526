import type { types } from '@slack/bolt';
import type { LinkResult } from '../care/incident-links.js';
import type { IncidentStatus, IncidentSummary } from '../care/incidents.js';
import type { IncidentRow, SavedReplyRow } from '../care/records.js';
import { plain, platformLabel, slackDate } from './case-card.js';
import { fitMessage, fitText, fitView, type SlackMessage } from './limits.js';
import { escapeText, mentionUser, quoteWithin, truncate } from './mrkdwn.js';

export const INCIDENT_ACTIONS = {
  edit: 'incident_edit',
  sendStatement: 'incident_send_statement',
  resolve: 'incident_resolve',
  /** On a case card: link the case to an open incident (value: the case id). */
  linkCase: 'case_link_incident',
} as const;

export const INCIDENT_VIEWS = {
  edit: 'incident_edit_submit',
  link: 'incident_link_submit',
  statement: 'incident_statement_submit',
} as const;

export const INCIDENT_BLOCKS = {
  lead: 'incident_lead',
  status: 'incident_status',
  statement: 'incident_statement',
  keywords: 'incident_keywords',
  pick: 'incident_pick',
  text: 'statement_text',
} as const;

const STATUS_LABEL: Record<IncidentStatus, string> = {
  investigating: ':mag: Investigating',
  identified: ':hammer_and_wrench: Identified',
  monitoring: ':eyes: Monitoring',
  resolved: ':white_check_mark: Resolved',
};

/** How many cases go where, by the name agents know each source by: [["X", 8], ["forum", 4]]. */
export function bySource(
  groups: Array<{ platform: string; sourceKey: string; n: number }>,
): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const g of groups) {
    const label = platformLabel(g.platform, g.sourceKey);
    counts.set(label, (counts.get(label) ?? 0) + g.n);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** "12 open: 8 on X, 4 on forum". */
export function whereLine(openByPlatform: Array<{ platform: string; sourceKey: string; n: number }>): string {
  const total = openByPlatform.reduce((s, p) => s + p.n, 0);
  if (total === 0) return 'no open cases';
  return `${total} open: ${bySource(openByPlatform)
    .map(([label, n]) => `${n} on ${escapeText(label)}`)
    .join(', ')}`;
}

/** The incident's message: the parent of its thread, updated as it changes. */
export function incidentMessage(s: IncidentSummary): SlackMessage {
  const i = s.incident;
  const title = `:fire: *Incident #${i.id}: ${escapeText(i.title)}*`;
  const facts = [
    STATUS_LABEL[i.status],
    `Lead ${mentionUser(i.leadId)}`,
    `Opened ${slackDate(i.openedAt)}`,
    ...(i.resolvedAt ? [`Resolved ${slackDate(i.resolvedAt)}`] : []),
    `${s.linked} linked case${s.linked === 1 ? '' : 's'} (${whereLine(s.openByPlatform)})`,
    i.keywords.length
      ? `Keywords: ${i.keywords.map((k) => `\`${escapeText(k).replace(/`/g, "'")}\``).join(', ')}`
      : 'No keywords: link cases with the button on their card',
  ];
  const statement = s.statement
    ? `*Holding statement* (${escapeText(s.statement.title)}):\n${quoteWithin(s.statement.text, 2500)}`
    : '*Holding statement*: none yet. Choose an approved saved reply with *Edit*.';
  const blocks: types.KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: title } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: fitText(facts.join(' · '), 2000) }] },
    { type: 'section', text: { type: 'mrkdwn', text: statement } },
  ];
  if (i.status !== 'resolved') {
    blocks.push({
      type: 'actions',
      block_id: `incident_actions:${i.id}`,
      elements: [
        {
          type: 'button',
          action_id: INCIDENT_ACTIONS.sendStatement,
          text: plain('Send statement'),
          value: String(i.id),
          style: 'primary',
        },
        { type: 'button', action_id: INCIDENT_ACTIONS.edit, text: plain('Edit'), value: String(i.id) },
        { type: 'button', action_id: INCIDENT_ACTIONS.resolve, text: plain('Resolve'), value: String(i.id) },
      ],
    });
  }
  return fitMessage({ text: `Incident #${i.id}: ${escapeText(i.title)} (${i.status})`, blocks });
}

/** In the thread when the incident is resolved: the lead follows up with every linked customer. */
export function followUpPrompt(incident: IncidentRow, s: IncidentSummary): SlackMessage {
  const open = s.openByPlatform.reduce((sum, p) => sum + p.n, 0);
  const text = `:white_check_mark: ${mentionUser(incident.leadId)} incident #${incident.id} is resolved. Follow up with every linked customer (${whereLine(s.openByPlatform)}): tell them it is fixed, then resolve their cases.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      ...(open > 0
        ? [
            {
              type: 'actions',
              elements: [
                {
                  type: 'button',
                  action_id: INCIDENT_ACTIONS.sendStatement,
                  text: plain('Send follow-up'),
                  value: String(incident.id),
                  style: 'primary',
                },
              ],
            } satisfies types.ActionsBlock,
          ]
        : []),
    ],
  });
}

/** The thread note when keywords linked new cases. */
export function autoLinkedNote(caseIds: number[]): { text: string } {
  const shown = caseIds.slice(0, 30).map((id) => `#${id}`);
  const more = caseIds.length > shown.length ? ` and ${caseIds.length - shown.length} more` : '';
  return {
    text: `:link: Linked ${caseIds.length} case${caseIds.length === 1 ? '' : 's'} by keywords: ${shown.join(', ')}${more}.`,
  };
}

const statusOption = (s: IncidentStatus): types.PlainTextOption => ({
  text: plain(STATUS_LABEL[s].replace(/^:[a-z_]+: /, '')),
  value: s,
});

/** Edit an incident: lead, status, the approved statement and the keywords that link cases. */
export function editIncidentModal(incident: IncidentRow, saved: SavedReplyRow[]): types.ModalView {
  const statementOptions: types.PlainTextOption[] = saved
    .slice(0, 100)
    .map((r) => ({ text: plain(truncate(r.title, 75)), value: String(r.id) }));
  const current = statementOptions.find((o) => o.value === String(incident.savedReplyId));
  return fitView({
    type: 'modal',
    callback_id: INCIDENT_VIEWS.edit,
    private_metadata: String(incident.id),
    title: plain(`Incident #${incident.id}`),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: INCIDENT_BLOCKS.lead,
        label: plain('Lead'),
        element: { type: 'users_select', action_id: 'lead', initial_user: incident.leadId },
      },
      {
        type: 'input',
        block_id: INCIDENT_BLOCKS.status,
        label: plain('Status'),
        element: {
          type: 'static_select',
          action_id: 'status',
          initial_option: statusOption(incident.status === 'resolved' ? 'monitoring' : incident.status),
          options: (['investigating', 'identified', 'monitoring'] as const).map(statusOption),
        },
      },
      statementOptions.length
        ? {
            type: 'input',
            block_id: INCIDENT_BLOCKS.statement,
            optional: true,
            label: plain('Holding statement (an approved saved reply)'),
            element: {
              type: 'static_select',
              action_id: 'statement',
              options: statementOptions,
              ...(current ? { initial_option: current } : {}),
            },
          }
        : {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: 'No saved replies yet: add the approved statement with `/care replies`.',
            },
          },
      {
        type: 'input',
        block_id: INCIDENT_BLOCKS.keywords,
        optional: true,
        label: plain('Keywords (comma-separated): new cases mentioning one are linked'),
        element: {
          type: 'plain_text_input',
          action_id: 'keywords',
          initial_value: incident.keywords.join(', '),
        },
      },
    ],
  });
}

/** Pick which open incident a case belongs to (when more than one is open). */
export function linkIncidentModal(
  caseId: number,
  open: IncidentRow[],
  channel: string | undefined,
): types.ModalView {
  return fitView({
    type: 'modal',
    callback_id: INCIDENT_VIEWS.link,
    // Where the card is, to answer there once the case is linked.
    private_metadata: JSON.stringify({ caseId, channel: channel ?? null }),
    title: plain(`Case #${caseId}`),
    submit: plain('Link'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: INCIDENT_BLOCKS.pick,
        label: plain('Incident'),
        element: {
          type: 'static_select',
          action_id: 'incident',
          options: open.map((i) => ({
            text: plain(truncate(`#${i.id} ${i.title}`, 75)),
            value: String(i.id),
          })),
        },
      },
    ],
  });
}

/** What the person who linked a case to an incident is told. */
export function linkAnswer(result: LinkResult, caseId: number): string {
  switch (result.kind) {
    case 'linked':
      return `Case #${caseId} is now part of incident #${result.incident.id} “${escapeText(result.incident.title)}”.`;
    case 'already':
      return `Case #${caseId} is already part of incident #${result.incident.id}.`;
    case 'other_incident':
      return `Case #${caseId} is already part of incident #${result.incident.id} “${escapeText(result.incident.title)}”.`;
    case 'incident_resolved':
      return 'That incident is resolved; cases can no longer join it.';
    case 'not_found':
      return 'That case or incident no longer exists.';
  }
}

/** How the care domain renders incident messages. */
export const incidentTexts = { message: incidentMessage };

export const STATEMENT_CANCEL = 'statement_cancel';

type PlanCounts = {
  send: Array<{ platform: string; sourceKey: string }>;
  held: Array<{ caseId: number; platform: string; sourceKey: string; findings: Array<{ message: string }> }>;
  skipped: Array<{ caseId: number; reason: string }>;
};

/** "23 customers: 12 on X, 8 on Facebook, 3 on forum". */
export function goesWhere(plan: Pick<PlanCounts, 'send'>): string {
  const n = plan.send.length;
  const where = bySource(plan.send.map((s) => ({ ...s, n: 1 })))
    .map(([label, count]) => `${count} on ${escapeText(label)}`)
    .join(', ');
  return `${n} customer${n === 1 ? '' : 's'}${n ? `: ${where}` : ''}`;
}

function leftOut(plan: PlanCounts): string[] {
  const lines: string[] = [];
  if (plan.held.length) {
    const shown = plan.held
      .slice(0, 15)
      .map((h) => `#${h.caseId} (${escapeText(h.findings.map((f) => f.message).join('; '))})`);
    lines.push(
      `:hand: Held by the tone check, answer these in their threads: ${shown.join(', ')}${plan.held.length > 15 ? ` and ${plan.held.length - 15} more` : ''}`,
    );
  }
  if (plan.skipped.length) {
    lines.push(
      `Left out: ${plan.skipped
        .slice(0, 15)
        .map((s) => `#${s.caseId} (${escapeText(s.reason)})`)
        .join(', ')}${plan.skipped.length > 15 ? ` and ${plan.skipped.length - 15} more` : ''}`,
    );
  }
  return lines;
}

/** The lead's review before sending: the text (editable) and how many go where. */
export function statementModal(
  incident: IncidentRow,
  text: string,
  plan: PlanCounts,
  delayMs: number,
): types.ModalView {
  const summary = [
    `*Goes to ${goesWhere(plan)}*, each as a normal reply in its case (tone check, rate limits), after one undo window of ${Math.round(delayMs / 1000)} s with one Cancel for all.`,
    ...leftOut(plan),
    'Variables such as `{first_name}` are filled in for each customer. Counts are for the text as it was when this opened.',
  ].join('\n');
  return fitView({
    type: 'modal',
    callback_id: INCIDENT_VIEWS.statement,
    private_metadata: String(incident.id),
    title: plain(`Incident #${incident.id}`),
    submit: plain(plan.send.length ? `Send to ${plan.send.length}` : 'Send'),
    close: plain('Cancel'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: fitText(summary, 2900) } },
      {
        type: 'input',
        block_id: INCIDENT_BLOCKS.text,
        label: plain(incident.status === 'resolved' ? 'Follow-up' : 'Statement'),
        element: {
          type: 'plain_text_input',
          action_id: 'text',
          multiline: true,
          ...(text ? { initial_value: text } : {}),
        },
      },
    ],
  });
}

/** The lead's private notice: sending in N s, with one Cancel for the whole batch. */
export function batchUndoNotice(batchId: number, plan: PlanCounts, delayMs: number): SlackMessage {
  const text = `Sending to ${goesWhere(plan)} in ${Math.max(1, Math.round(delayMs / 1000))} s. Cancel stops all of them.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `:outbox_tray: ${text}` } },
      ...leftOut(plan).map(
        (line): types.SectionBlock => ({
          type: 'section',
          text: { type: 'mrkdwn', text: fitText(line, 2900) },
        }),
      ),
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: STATEMENT_CANCEL,
            text: plain('Cancel all'),
            value: String(batchId),
            style: 'danger',
          },
        ],
      },
    ],
  });
}

/** In the incident's thread: who sent what to how many. */
export function statementNote(authorId: string, text: string, plan: PlanCounts): SlackMessage {
  const line = `:outbox_tray: ${mentionUser(authorId)} is sending this to ${goesWhere(plan)}:`;
  return fitMessage({
    text: line,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${line}\n${quoteWithin(text, 2500)}` } },
      ...leftOut(plan).map(
        (l): types.ContextBlock => ({
          type: 'context',
          elements: [{ type: 'mrkdwn', text: fitText(l, 2900) }],
        }),
      ),
    ],
  });
}
