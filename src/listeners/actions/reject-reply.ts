import { rejectModal } from '../../slack/approval.js';
import { approvalClick } from '../approval-gate.js';
import type { ButtonArgs } from '../context.js';

/** Reject on a trainee's reply: asks for an optional note; the reply never leaves. */
export async function rejectReply(args: ButtonArgs): Promise<void> {
  const { ack, body, client, context } = args;
  await ack();
  const row = await approvalClick(context.carebot, args);
  if (!row) return;
  await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(row.reply) });
}
