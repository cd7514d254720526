import type { types } from '@slack/bolt';
import { type Duration, formatDuration, milliseconds } from '../care/clock.js';
import { describeRate } from '../care/crisis.js';
import type { CrisisAlertRow, CrisisPeriodRow } from '../care/records.js';
import type { Targets } from '../care/sla.js';
import type { Team } from '../care/teams.js';
import { plain, platformName, slackDate } from './case-card.js';
import { teamMention } from './escalation.js';
import { fitMessage, type SlackMessage } from './limits.js';
import { escapeText, mentionUser, mentionUsergroup, truncate } from './mrkdwn.js';

export const CRISIS_ACTIONS = {
  /** On an alert: open an incident for it (value: the alert id). */
  openIncident: 'crisis_open_incident',
  modeOn: 'crisis_mode_on',
  modeOff: 'crisis_mode_off',
} as const;

/** `<!subteam^S…>` for a user group, `<@U…>` for a person, the team's mention for a team key. */
export function mentionOf(target: string, teams: Team[] = []): string {
  const team = teams.find((t) => t.key === target);
  if (team) return teamMention(team);
  return target.startsWith('S') ? mentionUsergroup(target) : mentionUser(target);
}

export interface AlertSample {
  caseId: number;
  platform: string;
  text: string;
}

const termList = (terms: string[]) => terms.map((t) => `\`${escapeText(t).replace(/`/g, "'")}\``).join(', ');

/** The one alert of a storm: rate against normal, top terms, sample cases and what to do next. */
export function alertMessage(
  alert: CrisisAlertRow,
  input: { samples: AlertSample[]; mention: string[]; teams?: Team[]; window: Duration; crisisOn: boolean },
): SlackMessage {
  const where = alert.platform ? platformName(alert.platform) : 'all platforms';
  const window = formatDuration(input.window);
  const headline =
    alert.kind === 'spike'
      ? `:rotating_light: *Spike on ${escapeText(where)}*: ${describeRate(alert.count, alert.baseline)} new cases in the last ${window}`
      : `:rotating_light: *Cluster*: ${alert.count} new cases in the last ${window} share ${termList(alert.terms)}`;
  const mentions = [...new Set(input.mention.map((m) => mentionOf(m, input.teams)))].join(' ');
  const lines = [headline];
  if (alert.kind === 'spike' && alert.terms.length > 0) lines.push(`Top terms: ${termList(alert.terms)}`);
  if (mentions) lines.push(mentions);
  const samples = input.samples
    .slice(0, 3)
    .map(
      (s) =>
        `• Case #${s.caseId} (${escapeText(platformName(s.platform))}): ${escapeText(truncate(s.text.replace(/\s+/g, ' '), 160))}`,
    );
  const blocks: types.KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }];
  if (samples.length) {
    // verbatim: Slack must not turn channel names or URLs the customers wrote into links.
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Sample cases*\n${samples.join('\n')}`, verbatim: true },
    });
  }
  blocks.push({
    type: 'actions',
    block_id: `crisis_alert:${alert.id}`,
    elements: [
      {
        type: 'button',
        action_id: CRISIS_ACTIONS.openIncident,
        text: plain('Open incident'),
        value: String(alert.id),
        style: 'primary',
      },
      input.crisisOn
        ? {
            type: 'button',
            action_id: CRISIS_ACTIONS.modeOff,
            text: plain('Lift crisis mode'),
            value: String(alert.id),
          }
        : {
            type: 'button',
            action_id: CRISIS_ACTIONS.modeOn,
            text: plain('Crisis mode on'),
            value: String(alert.id),
          },
    ],
  });
  const plainHeadline =
    alert.kind === 'spike'
      ? `Spike on ${escapeText(where)}: ${describeRate(alert.count, alert.baseline)} new cases in the last ${window}`
      : `Cluster: ${alert.count} new cases share ${alert.terms.map(escapeText).join(', ')}`;
  return fitMessage({ text: `${plainHeadline} ${mentions}`.trim(), blocks });
}

/** The alert once the storm has passed: the buttons go, a line says when it ended. */
export function clearedAlertMessage(alert: CrisisAlertRow, input: { window: Duration }): SlackMessage {
  const where = alert.platform ? platformName(alert.platform) : 'all platforms';
  const what =
    alert.kind === 'spike'
      ? `Spike on ${escapeText(where)}: ${describeRate(alert.count, alert.baseline)} new cases in ${formatDuration(input.window)}, peak ${alert.peakCount}`
      : `Cluster: ${alert.count} new cases shared ${termList(alert.terms)}`;
  const text = `:white_check_mark: ~${what}~ Over since ${slackDate(alert.clearedAt ?? alert.lastAboveAt)}.`;
  return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

/** The all-clear in the alert's thread. */
export function allClearMessage(
  alert: CrisisAlertRow,
  input: { calmAfter: Duration; crisisOn: boolean },
): SlackMessage {
  const text = `:large_green_circle: All clear: volume has been back to normal for ${formatDuration(input.calmAfter)} (peak: ${alert.peakCount} new cases in one window).${input.crisisOn ? ' Crisis mode is still on; lift it when the team has caught up.' : ''}`;
  const blocks: types.KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  if (input.crisisOn) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: CRISIS_ACTIONS.modeOff,
          text: plain('Lift crisis mode'),
          value: String(alert.id),
        },
      ],
    });
  }
  return fitMessage({ text, blocks });
}

function targetLine(targets: Partial<Targets>): string {
  const parts = [
    targets.firstResponseMs !== undefined
      ? `first answers within ${formatDuration(milliseconds(targets.firstResponseMs))}`
      : '',
    targets.nextResponseMs !== undefined
      ? `next answers within ${formatDuration(milliseconds(targets.nextResponseMs))}`
      : '',
    targets.resolutionMs !== undefined
      ? `resolved within ${formatDuration(milliseconds(targets.resolutionMs))}`
      : '',
  ].filter(Boolean);
  return parts.length ? `New cases: ${parts.join(', ')}.` : 'SLA targets are unchanged.';
}

/** The banner in the care channel while crisis mode is on, and what it becomes when lifted. */
export function crisisBanner(period: CrisisPeriodRow, targets: Partial<Targets>): SlackMessage {
  if (period.liftedAt) {
    const by = period.liftedBy && period.liftedBy !== 'carebot' ? ` by ${mentionUser(period.liftedBy)}` : '';
    const text = `:white_check_mark: ~Crisis mode~ lifted${by} ${slackDate(period.liftedAt)}; usual SLA targets again.`;
    return fitMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }
  const by = period.startedBy === 'carebot' ? 'by a spike alert' : `by ${mentionUser(period.startedBy)}`;
  const text = `:rotating_light: *Crisis mode* since ${slackDate(period.startedAt)} (${by}): ${escapeText(period.reason)}. ${targetLine(targets)} Answer the oldest first; incident statements go to linked cases from the incident thread.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: CRISIS_ACTIONS.modeOff,
            text: plain('Lift crisis mode'),
            value: 'banner',
          },
        ],
      },
    ],
  });
}
