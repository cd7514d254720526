import type { App } from '@slack/bolt';
import { eq } from 'drizzle-orm';
import { answerEscalation, getEscalation } from '../../care/escalations.js';
import { slackOutbox, slackThreads } from '../../db/schema.js';
import { ANSWER_BLOCK, ANSWER_ELEMENT, ANSWER_VIEW, escalationMessage } from '../../slack/escalation.js';
import { escapeText, mentionUser, quoteWithin } from '../../slack/mrkdwn.js';
import { actorOf, caseIdFrom, type ListenerContext, teamOf } from '../context.js';

export function registerEscalationAnswer(app: App, ctx: ListenerContext): void {
  app.view(ANSWER_VIEW, async ({ ack, body, view, client }) => {
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
    const team = teamOf(ctx, escalation.teamKey);
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
    const [posted] = await ctx.db
      .select({ ts: slackOutbox.postedTs, channel: slackThreads.channelId })
      .from(slackOutbox)
      .innerJoin(slackThreads, eq(slackThreads.caseId, slackOutbox.caseId))
      .where(eq(slackOutbox.key, `escalation:${escalation.id}`));
    const answered = await getEscalation(ctx.db, escalation.id);
    if (posted?.ts && answered) {
      await client.chat
        .update({
          channel: posted.channel,
          ts: posted.ts,
          ...escalationMessage({ team, escalation: answered }),
        } as never)
        .catch((err) => ctx.logger.warn({ err: String(err) }, 'could not update the escalation message'));
    }
    ctx.kickSync();
  });
}
