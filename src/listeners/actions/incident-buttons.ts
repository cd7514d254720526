import type { AllMiddlewareArgs, App, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { getAlert } from '../../care/crisis-alerts.js';
import { type LinkResult, linkCase } from '../../care/incident-links.js';
import { getIncident, openIncident, recentOpenIncidents, resolveIncident } from '../../care/incidents.js';
import { listSavedReplies } from '../../care/saved-replies.js';
import { platformName } from '../../slack/case-card.js';
import { CRISIS_ACTIONS } from '../../slack/crisis.js';
import {
  editIncidentModal,
  followUpPrompt,
  INCIDENT_ACTIONS,
  incidentTexts,
  linkIncidentModal,
} from '../../slack/incident.js';
import { escapeText } from '../../slack/mrkdwn.js';
import { caseIdFrom, type ListenerContext } from '../context.js';
import { clickAllowed } from '../origin.js';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockButtonAction>;

/** A private answer to whoever pressed the button, where they pressed it. */
export async function tellPresser({ body, client }: Pick<ButtonArgs, 'body' | 'client'>, text: string) {
  const channel = body.channel?.id;
  if (!channel) return;
  await client.chat.postEphemeral({
    channel,
    user: body.user.id,
    text,
    ...(body.message?.thread_ts ? { thread_ts: body.message.thread_ts } : {}),
  });
}

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

/** Open incident (on an alert), Edit and Resolve (on an incident), Link to incident (on a card). */
export function registerIncidentButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(CRISIS_ACTIONS.openIncident, async (args) => {
    await args.ack();
    const alertId = caseIdFrom(args.action.value);
    const alert = alertId ? await getAlert(ctx.db, alertId) : undefined;
    if (!alert) return;
    if (!(await clickAllowed(ctx, args, undefined, { action: 'incident' }))) return;
    const title =
      alert.kind === 'spike'
        ? `Spike on ${platformName(alert.platform ?? 'all platforms')}`
        : `Cluster: ${alert.terms.slice(0, 3).join(', ')}`;
    const result = await openIncident(ctx.db, ctx.clock, {
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
  });

  app.action<BlockButtonAction>(INCIDENT_ACTIONS.edit, async ({ ack, body, action, client }) => {
    await ack();
    const id = caseIdFrom(action.value);
    const incident = id ? await getIncident(ctx.db, id) : undefined;
    if (!incident) return;
    const target = { incidentId: incident.id };
    if (!(await clickAllowed(ctx, { body, client }, target, { action: 'incident' }))) return;
    await client.views.open({
      trigger_id: body.trigger_id,
      view: editIncidentModal(incident, await listSavedReplies(ctx.db)) as never,
    });
  });

  app.action<BlockButtonAction>(INCIDENT_ACTIONS.resolve, async (args) => {
    await args.ack();
    const id = caseIdFrom(args.action.value);
    if (!id) return;
    if (!(await clickAllowed(ctx, args, { incidentId: id }, { action: 'incident' }))) return;
    const result = await resolveIncident(ctx.db, ctx.clock, {
      incidentId: id,
      userId: args.body.user.id,
      texts: incidentTexts,
      prompt: followUpPrompt,
    });
    ctx.kickSync();
    if (result.kind === 'resolved') {
      ctx.logger.info({ incidentId: id, userId: args.body.user.id }, 'incident resolved');
      return;
    }
    await tellPresser(
      args,
      result.kind === 'resolved_already'
        ? 'This incident is already resolved.'
        : 'That incident no longer exists.',
    );
  });

  app.action<BlockButtonAction>(INCIDENT_ACTIONS.linkCase, async (args) => {
    await args.ack();
    const caseId = caseIdFrom(args.action.value);
    if (!caseId) return;
    if (!(await clickAllowed(ctx, args, { caseId }, { action: 'incident' }))) return;
    const open = await recentOpenIncidents(ctx.db);
    if (open.length === 0) {
      await tellPresser(args, 'No incident is open. Open one with `/care incident open "title"`.');
      return;
    }
    if (open.length > 1) {
      await args.client.views.open({
        trigger_id: args.body.trigger_id,
        view: linkIncidentModal(caseId, open, args.body.channel?.id) as never,
      });
      return;
    }
    const result = await linkCase(ctx.db, ctx.clock, {
      incidentId: (open[0] as (typeof open)[number]).id,
      caseId,
      userId: args.body.user.id,
      texts: incidentTexts,
    });
    ctx.kickSync();
    await tellPresser(args, linkAnswer(result, caseId));
  });
}
