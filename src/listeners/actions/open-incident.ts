import { getAlert } from '../../care/crisis-alerts.js';
import { openIncident as open } from '../../care/incidents.js';
import { platformName } from '../../slack/case-card.js';
import { incidentTexts } from '../../slack/incident.js';
import { escapeText } from '../../slack/mrkdwn.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed, tellPresser } from '../origin.js';

/** Open incident on a crisis alert: one incident per alert, with whoever pressed it as lead. */
export async function openIncident(args: ButtonArgs): Promise<void> {
  await args.ack();
  const ctx = args.context.carebot;
  const alertId = caseIdFrom(args.action.value);
  const alert = alertId ? await getAlert(ctx.db, alertId) : undefined;
  if (!alert) return;
  if (!(await clickAllowed(ctx, args, undefined, { action: 'incident' }))) return;
  const title =
    alert.kind === 'spike'
      ? `Spike on ${platformName(alert.platform ?? 'all platforms')}`
      : `Cluster: ${alert.terms.slice(0, 3).join(', ')}`;
  const result = await open(ctx.db, ctx.clock, {
    title,
    userId: args.body.user.id,
    // One incident per alert, however many times the button is pressed.
    requestKey: `alert:${alert.id}`,
    channelId: ctx.config.crisis.channelId,
    alertId: alert.id,
    keywords: alert.terms.slice(0, 3),
    texts: incidentTexts,
  });
  ctx.kickSync();
  await tellPresser(
    args,
    result.kind === 'opened'
      ? `Opened incident #${result.incident.id} with you as its lead. Its keywords (${result.incident.keywords.map(escapeText).join(', ')}) link matching cases within a minute; use *Edit* to change them and choose the approved statement.`
      : `Incident #${result.incident.id} is already open for this alert (lead <@${result.incident.leadId}>).`,
  );
}
