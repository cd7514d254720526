import { getIncident, type IncidentStatus, updateIncident } from '../../care/incidents.js';
import { getSavedReply } from '../../care/saved-replies.js';
import { INCIDENT_BLOCKS, incidentTexts } from '../../slack/incident.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** The statuses the Edit modal offers; an incident is resolved with its Resolve button. */
const EDITABLE: readonly string[] = ['investigating', 'identified', 'monitoring'] satisfies IncidentStatus[];
const isEditable = (status: string): status is IncidentStatus => EDITABLE.includes(status);

/** The incident's Edit modal submitted: lead, status, approved statement and keywords. */
export async function incidentEditSubmit({ ack, body, view, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const id = caseIdFrom(view.private_metadata);
  const incident = id ? await getIncident(ctx.db, id) : undefined;
  const values = view.state.values;
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
  const status = values[INCIDENT_BLOCKS.status]?.status?.selected_option?.value ?? incident.status;
  if (!isEditable(status)) {
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
}
