import { answerEscalation, getEscalation } from '../../care/escalations.js';
import { teamByKey } from '../../care/teams.js';
import { escalationMessageAt } from '../../care/threads.js';
import { ANSWER_BLOCK, ANSWER_ELEMENT, escalationMessage } from '../../slack/escalation.js';
import { escapeText, mentionUser, quoteWithin } from '../../slack/mrkdwn.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** The Answer modal submitted: the answer goes to the case thread, and the escalation message shows it. */
export async function escalationAnswerSubmit({
  ack,
  body,
  view,
  client,
  context,
}: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const answer = view.state.values[ANSWER_BLOCK]?.[ANSWER_ELEMENT]?.value?.trim() ?? '';
  const id = caseIdFrom(view.private_metadata);
  const escalation = id ? await getEscalation(ctx.db, id) : undefined;
  if (!escalation)
    return ack({
      response_action: 'errors',
      errors: { [ANSWER_BLOCK]: 'This escalation no longer exists.' },
    });
  if (!answer)
    return ack({ response_action: 'errors', errors: { [ANSWER_BLOCK]: 'Write the answer first.' } });
  const team = teamByKey(ctx.config.teams, escalation.teamKey);
  const decision = await ctx.permissions.check(actorOf(body), { action: 'escalation', teamKey: team.key });
  if (!decision.allowed) {
    return ack({ response_action: 'errors', errors: { [ANSWER_BLOCK]: decision.message } });
  }
  await ack();
  await answerEscalation(ctx.db, ctx.clock, {
    escalationId: escalation.id,
    userId: body.user.id,
    answer,
    slackText: (ownerId) =>
      `:speech_balloon: ${ownerId ? `${mentionUser(ownerId)} ` : ''}answer from ${escapeText(team.name)} (${mentionUser(body.user.id)}):\n${quoteWithin(answer, 2500)}`,
  });
  ctx.logger.info({ escalationId: escalation.id, userId: body.user.id }, 'escalation answered');
  // The escalation message shows the answer's status instead of the buttons.
  const posted = await escalationMessageAt(ctx.db, escalation.id);
  const answered = await getEscalation(ctx.db, escalation.id);
  if (posted?.ts && answered) {
    await client.chat
      .update({
        channel: posted.channel,
        ts: posted.ts,
        ...escalationMessage({ team, escalation: answered }),
      })
      .catch((err) => ctx.logger.warn({ err: String(err) }, 'could not update the escalation message'));
  }
  ctx.kickSync();
}
