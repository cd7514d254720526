import { getEscalation } from '../../care/escalations.js';
import { teamByKey } from '../../care/teams.js';
import { answerModal } from '../../slack/escalation.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Answer on an escalation message: opens the Answer modal, for the team's members and the care team. */
export async function answerEscalation({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const id = caseIdFrom(action.value);
  const escalation = id ? await getEscalation(ctx.db, id) : undefined;
  if (!escalation) return;
  const team = teamByKey(ctx.config.teams, escalation.teamKey);
  const permission = { action: 'escalation', teamKey: team.key } as const;
  // The escalation's message lives in its case's thread: the click must come from there.
  if (!(await clickAllowed(ctx, { body, client }, { caseId: escalation.caseId }, permission))) return;
  await client.views.open({ trigger_id: body.trigger_id, view: answerModal(escalation.id, team.name) });
}
