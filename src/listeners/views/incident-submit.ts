import type { App } from '@slack/bolt';
import { linkCase } from '../../care/incident-links.js';
import { getIncident, type IncidentStatus, updateIncident } from '../../care/incidents.js';
import { getSavedReply } from '../../care/saved-replies.js';
import { INCIDENT_BLOCKS, INCIDENT_VIEWS, incidentTexts } from '../../slack/incident.js';
import { linkAnswer } from '../actions/incident-buttons.js';
import { actorOf, caseIdFrom, type ListenerContext } from '../context.js';

type Values = Record<
  string,
  Record<
    string,
    { value?: string | null; selected_user?: string | null; selected_option?: { value: string } | null }
  >
>;

/** The incident's Edit modal and the card's incident picker. */
export function registerIncidentSubmit(app: App, ctx: ListenerContext): void {
  app.view(INCIDENT_VIEWS.edit, async ({ ack, body, view }) => {
    const id = caseIdFrom(view.private_metadata);
    const incident = id ? await getIncident(ctx.db, id) : undefined;
    const values = view.state.values as Values;
    const fail = (block: string, message: string) =>
      ack({ response_action: 'errors', errors: { [block]: message } });
    if (!incident) return fail(INCIDENT_BLOCKS.lead, 'This incident no longer exists.');
    const may = await ctx.permissions.check(actorOf(body), { action: 'incident' });
    if (!may.allowed) return fail(INCIDENT_BLOCKS.lead, may.message);
    if (incident.status === 'resolved') return fail(INCIDENT_BLOCKS.lead, 'This incident is resolved.');
    const lead = values[INCIDENT_BLOCKS.lead]?.lead?.selected_user ?? incident.leadId;
    if (lead !== incident.leadId) {
      // The lead sends the statement to every linked customer: it must be someone who may.
      const leadMay = await ctx.permissions.check({ userId: lead }, { action: 'incident' });
      if (!leadMay.allowed) {
        return fail(
          INCIDENT_BLOCKS.lead,
          leadMay.reason === 'lookup_failed'
            ? leadMay.message
            : 'The lead must be on the care team or a manager: they send the statement to customers.',
        );
      }
    }
    const status = (values[INCIDENT_BLOCKS.status]?.status?.selected_option?.value ??
      incident.status) as IncidentStatus;
    if (!['investigating', 'identified', 'monitoring'].includes(status)) {
      return fail(INCIDENT_BLOCKS.status, 'Choose a status; resolve with the Resolve button.');
    }
    const statementValue = values[INCIDENT_BLOCKS.statement]?.statement?.selected_option?.value;
    const savedReplyId = statementValue ? caseIdFrom(statementValue) : undefined;
    if (statementValue && (!savedReplyId || !(await getSavedReply(ctx.db, savedReplyId)))) {
      return fail(INCIDENT_BLOCKS.statement, 'That saved reply no longer exists.');
    }
    const keywords = (values[INCIDENT_BLOCKS.keywords]?.keywords?.value ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    // Saved before the ack (one quick write), so a problem can still be shown in the modal.
    const result = await updateIncident(ctx.db, ctx.clock, {
      incidentId: incident.id,
      userId: body.user.id,
      change: {
        leadId: lead,
        status,
        keywords,
        ...(statementValue !== undefined ? { savedReplyId: savedReplyId ?? null } : {}),
      },
      texts: incidentTexts,
    });
    if (result.kind !== 'updated') {
      return fail(
        INCIDENT_BLOCKS.lead,
        result.kind === 'not_found' ? 'This incident no longer exists.' : 'This incident is resolved.',
      );
    }
    await ack();
    ctx.kickSync();
  });

  app.view(INCIDENT_VIEWS.link, async ({ ack, body, view, client }) => {
    const meta = linkMetadata(view.private_metadata);
    const caseId = meta?.caseId;
    const incidentId = caseIdFrom(
      (view.state.values as Values)[INCIDENT_BLOCKS.pick]?.incident?.selected_option?.value,
    );
    if (!meta || !caseId || !incidentId) {
      return ack({ response_action: 'errors', errors: { [INCIDENT_BLOCKS.pick]: 'Choose an incident.' } });
    }
    const may = await ctx.permissions.check(actorOf(body), { action: 'incident' });
    if (!may.allowed)
      return ack({ response_action: 'errors', errors: { [INCIDENT_BLOCKS.pick]: may.message } });
    await ack();
    const result = await linkCase(ctx.db, ctx.clock, {
      incidentId,
      caseId,
      userId: body.user.id,
      texts: incidentTexts,
    });
    ctx.kickSync();
    if (meta.channel) {
      await client.chat.postEphemeral({
        channel: meta.channel,
        user: body.user.id,
        text: linkAnswer(result, caseId),
      });
    }
  });
}

function linkMetadata(text: string): { caseId: number; channel: string | undefined } | undefined {
  try {
    const parsed = JSON.parse(text) as { caseId?: unknown; channel?: unknown };
    const caseId = caseIdFrom(String(parsed.caseId));
    if (!caseId) return undefined;
    return { caseId, channel: typeof parsed.channel === 'string' ? parsed.channel : undefined };
  } catch {
    return undefined;
  }
}
