import type { App } from '@slack/bolt';
import { getIncident } from '../../care/incidents.js';
import { noteText } from '../../care/replies.js';
import { INCIDENT_BLOCKS, INCIDENT_VIEWS } from '../../slack/incident.js';
import { actorOf, caseIdFrom, type ListenerContext } from '../context.js';
import { sendIncidentStatement } from '../statement-flow.js';

/** The lead sends the reviewed statement: checked here, then one batch of replies. */
export function registerStatementSubmit(app: App, ctx: ListenerContext): void {
  app.view(INCIDENT_VIEWS.statement, async ({ ack, body, view, client }) => {
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
    const values = view.state.values as Record<string, Record<string, { value?: string | null }>>;
    const text = (values[INCIDENT_BLOCKS.text]?.text?.value ?? '').trim();
    if (!text) return fail('Write the statement first.');
    if (noteText(text) !== undefined) return fail('This goes to customers; notes belong in the thread.');
    await ack();
    await sendIncidentStatement(ctx, {
      incidentId: incident.id,
      userId: body.user.id,
      text,
      // One batch per modal submission, whatever Slack redelivers.
      requestKey: `modal:${view.id}`,
      postEphemeral: (content) => client.chat.postEphemeral({ user: body.user.id, ...content } as never),
    });
  });
}
