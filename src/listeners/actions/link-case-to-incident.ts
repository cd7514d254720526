import { linkCase } from '../../care/incident-links.js';
import { recentOpenIncidents } from '../../care/incidents.js';
import { incidentTexts, linkAnswer, linkIncidentModal } from '../../slack/incident.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed, tellPresser } from '../origin.js';

/** Link to incident on a case card: straight to the one open incident, or a picker when there are more. */
export async function linkCaseToIncident(args: ButtonArgs): Promise<void> {
  await args.ack();
  const ctx = args.context.carebot;
  const caseId = caseIdFrom(args.action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, args, { caseId }, { action: 'incident' }))) return;
  const [only, ...others] = await recentOpenIncidents(ctx.db);
  if (!only) {
    await tellPresser(args, 'No incident is open. Open one with `/care incident open "title"`.');
    return;
  }
  if (others.length > 0) {
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: linkIncidentModal(caseId, [only, ...others], args.body.channel?.id),
    });
    return;
  }
  const result = await linkCase(ctx.db, ctx.clock, {
    incidentId: only.id,
    caseId,
    userId: args.body.user.id,
    texts: incidentTexts,
  });
  ctx.kickSync();
  await tellPresser(args, linkAnswer(result, caseId));
}
