import { linkCase } from '../../care/incident-links.js';
import { INCIDENT_BLOCKS, incidentTexts, linkAnswer } from '../../slack/incident.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** The card's incident picker submitted: the case joins the chosen incident, and the card's channel hears it. */
export async function incidentLinkSubmit({
  ack,
  body,
  view,
  client,
  context,
}: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const meta = linkMetadata(view.private_metadata);
  const caseId = meta?.caseId;
  const incidentId = caseIdFrom(view.state.values[INCIDENT_BLOCKS.pick]?.incident?.selected_option?.value);
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
}

function linkMetadata(text: string): { caseId: number; channel: string | undefined } | undefined {
  try {
    const parsed: { caseId?: unknown; channel?: unknown } = JSON.parse(text);
    const caseId = caseIdFrom(String(parsed.caseId));
    if (!caseId) return undefined;
    return { caseId, channel: typeof parsed.channel === 'string' ? parsed.channel : undefined };
  } catch {
    return undefined;
  }
}
