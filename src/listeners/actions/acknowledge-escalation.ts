import { acknowledgeEscalation as acknowledge, getEscalation } from '../../care/escalations.js';
import { teamByKey } from '../../care/teams.js';
import { escalationMessage } from '../../slack/escalation.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Acknowledge on an escalation message: for the team's members and the care team. */
export async function acknowledgeEscalation({
  ack,
  body,
  action,
  client,
  context,
}: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const id = caseIdFrom(action.value);
  const escalation = id ? await getEscalation(ctx.db, id) : undefined;
  if (!escalation) return;
  const team = teamByKey(ctx.config.teams, escalation.teamKey);
  const channel = body.channel?.id;
  const permission = { action: 'escalation', teamKey: team.key } as const;
  // The escalation's message lives in its case's thread: the click must come from there.
  if (!(await clickAllowed(ctx, { body, client }, { caseId: escalation.caseId }, permission))) return;
  const result = await acknowledge(ctx.db, ctx.clock, escalation.id, body.user.id);
  if (result.kind === 'not_found') return;
  ctx.logger.info({ escalationId: escalation.id, userId: body.user.id }, 'escalation acknowledged');
  ctx.kickSync();
  // Show it on the message that was clicked.
  if (channel && body.message?.ts) {
    await client.chat.update({
      channel,
      ts: body.message.ts,
      ...escalationMessage({ team, escalation: result.escalation }),
    });
  }
}
