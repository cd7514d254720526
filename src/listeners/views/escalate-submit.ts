import { escalateCase } from '../../care/escalations.js';
import { ESCALATE_BLOCKS, ESCALATE_ELEMENTS } from '../../slack/escalation.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** Escalate modal submitted: one escalation (and one mention) per chosen team. */
export async function escalateSubmit({ ack, body, view, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const caseId = caseIdFrom(view.private_metadata);
  const values = view.state.values;
  const picked = values[ESCALATE_BLOCKS.team]?.[ESCALATE_ELEMENTS.team];
  const keys = [
    ...(picked?.selected_options ?? []).map((o) => o.value),
    ...(picked?.selected_option?.value ? [picked.selected_option.value] : []),
  ].filter((k): k is string => Boolean(k));
  const chosen = ctx.config.teams.filter((t) => keys.includes(t.key));
  const urgency =
    values[ESCALATE_BLOCKS.urgency]?.[ESCALATE_ELEMENTS.urgency]?.selected_option?.value === 'urgent'
      ? 'urgent'
      : 'normal';
  const note = values[ESCALATE_BLOCKS.note]?.[ESCALATE_ELEMENTS.note]?.value?.trim() ?? '';
  if (chosen.length === 0) {
    await ack({ response_action: 'errors', errors: { [ESCALATE_BLOCKS.team]: 'Pick at least one team.' } });
    return;
  }
  if (!note) {
    await ack({
      response_action: 'errors',
      errors: { [ESCALATE_BLOCKS.note]: 'Tell the team what you need.' },
    });
    return;
  }
  if (!caseId) {
    await ack({
      response_action: 'errors',
      errors: { [ESCALATE_BLOCKS.team]: 'This case no longer exists.' },
    });
    return;
  }
  const may = await ctx.permissions.check(actorOf(body), { action: 'escalate' });
  if (!may.allowed) {
    await ack({ response_action: 'errors', errors: { [ESCALATE_BLOCKS.team]: may.message } });
    return;
  }
  let escalated = 0;
  for (const team of chosen) {
    const result = await escalateCase(ctx.db, ctx.clock, {
      caseId,
      teamKey: team.key,
      note,
      urgency,
      userId: body.user.id,
      // One escalation per team per submission, however often Slack resends it.
      requestKey: `view:${view.id}:${team.key}`,
    });
    if (result.kind === 'not_found') {
      await ack({
        response_action: 'errors',
        errors: { [ESCALATE_BLOCKS.team]: 'This case no longer exists.' },
      });
      return;
    }
    if (result.kind === 'escalated') escalated += 1;
  }
  await ack();
  if (escalated === 0) return;
  ctx.logger.info(
    { caseId, teams: chosen.map((t) => t.key), urgency, userId: body.user.id },
    'case escalated',
  );
  ctx.kickSync();
}
