import { getIncident } from '../../care/incidents.js';
import { listSavedReplies } from '../../care/saved-replies.js';
import { editIncidentModal } from '../../slack/incident.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Edit on an incident message: lead, status, approved statement and keywords, in a modal. */
export async function editIncident({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const id = caseIdFrom(action.value);
  const incident = id ? await getIncident(ctx.db, id) : undefined;
  if (!incident) return;
  const target = { incidentId: incident.id };
  if (!(await clickAllowed(ctx, { body, client }, target, { action: 'incident' }))) return;
  await client.views.open({
    trigger_id: body.trigger_id,
    view: editIncidentModal(incident, await listSavedReplies(ctx.db)),
  });
}
