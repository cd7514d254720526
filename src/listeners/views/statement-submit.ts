import { getIncident } from '../../care/incidents.js';
import { noteText } from '../../care/replies.js';
import { INCIDENT_BLOCKS } from '../../slack/incident.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';
import { sendIncidentStatement } from '../statement-flow.js';

/** The lead sends the reviewed statement: checked here, then one batch of replies. */
export async function statementSubmit({ ack, body, view, client, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const fail = (message: string) =>
    ack({ response_action: 'errors', errors: { [INCIDENT_BLOCKS.text]: message } });
  const id = caseIdFrom(view.private_metadata);
  const incident = id ? await getIncident(ctx.db, id) : undefined;
  if (!incident) return fail('This incident no longer exists.');
  const may = await ctx.permissions.check(actorOf(body), {
    action: 'send_statement',
    leadId: incident.leadId,
  });
  if (!may.allowed) return fail(may.message);
  const text = (view.state.values[INCIDENT_BLOCKS.text]?.text?.value ?? '').trim();
  if (!text) return fail('Write the statement first.');
  if (noteText(text) !== undefined) return fail('This goes to customers; notes belong in the thread.');
  await ack();
  await sendIncidentStatement(ctx, {
    incidentId: incident.id,
    userId: body.user.id,
    text,
    // One batch per modal submission, whatever Slack redelivers.
    requestKey: `modal:${view.id}`,
    postEphemeral: (content) => client.chat.postEphemeral({ user: body.user.id, ...content }),
  });
}
