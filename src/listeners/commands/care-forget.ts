import type { SlashCommand, webApi } from '@slack/bolt';
import { forgetPreview, recordForgetConfirmation } from '../../care/forget.js';
import { FORGET_USAGE, forgetModal, noSuchCaseText } from '../../slack/forget.js';
import { type ListenerContext, permitted } from '../context.js';

/**
 * `/care forget <case number>`: for those the policy allows, opens the confirmation modal; the
 * erasure happens when it is submitted (listeners/views/forget-submit.ts). Answers privately.
 */
export async function careForget(
  ctx: ListenerContext,
  client: webApi.WebClient,
  command: SlashCommand,
  args: string,
  respond: (text: string) => Promise<unknown>,
): Promise<void> {
  const arg = args.trim();
  const match = /^#?(\d{1,9})$/.exec(arg);
  if (!match) {
    await respond(
      arg ? `\`${arg.slice(0, 40).replace(/`/g, "'")}\` is not a case number. ${FORGET_USAGE}` : FORGET_USAGE,
    );
    return;
  }
  const actor = { userId: command.user_id, teamId: command.team_id };
  if (!(await permitted(ctx, actor, { action: 'forget' }, respond))) return;
  const caseId = Number(match[1]);
  const preview = await forgetPreview(ctx.db, caseId);
  if (!preview) {
    await respond(noSuchCaseText(caseId));
    return;
  }
  const res = await client.views.open({ trigger_id: command.trigger_id, view: forgetModal(preview) });
  const viewId = res.view?.id;
  // Recorded as soon as Slack names the view, before it is drawn for the person; a submission
  // that finds no record for its view is refused (listeners/views/forget-submit.ts).
  if (viewId) await recordForgetConfirmation(ctx.db, ctx.clock, { caseId, userId: command.user_id, viewId });
}
