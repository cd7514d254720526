import { DRAFT_TOO_LONG_TEXT, editModal } from '../../slack/approval.js';
import { LIMITS } from '../../slack/limits.js';
import { approvalClick } from '../approval-gate.js';
import type { ButtonArgs } from '../context.js';
import { tellClicker } from '../origin.js';

/** Edit on a trainee's reply: opens the draft in a modal; submitting it approves the edited text. */
export async function editReplyDraft(args: ButtonArgs): Promise<void> {
  const { ack, body, client, context } = args;
  await ack();
  const row = await approvalClick(context.carebot, args);
  if (!row) return;
  if (row.reply.text.length > LIMITS.inputValue) return tellClicker(client, body, DRAFT_TOO_LONG_TEXT);
  await client.views.open({ trigger_id: body.trigger_id, view: editModal(row.reply) });
}
