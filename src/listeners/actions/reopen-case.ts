import { reopenCase as reopen } from '../../care/case-lifecycle.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { clickAllowed } from '../origin.js';

/** Reopen on a resolved case's card; a conversation that went on in a newer case says which. */
export async function reopenCase({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'reopen' }))) return;
  const result = await reopen(ctx.db, ctx.clock, caseId, body.user.id, ctx.sla);
  if (result.kind === 'reopened') {
    ctx.logger.info({ caseId, userId: body.user.id }, 'case reopened');
    ctx.kickSync();
    return;
  }
  const channel = body.channel?.id;
  if (result.kind === 'newer_case_open' && channel) {
    await client.chat.postEphemeral({
      channel,
      user: body.user.id,
      text: `This conversation continues in case #${result.caseId}, which is open.`,
    });
  }
}
