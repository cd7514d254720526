import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { customerProfile, linkedAuthors } from '../../care/customers.js';
import { customerMenuChoice, customerNoteModal, samePersonModal } from '../../slack/customers.js';
import type { CarebotContext } from '../context.js';
import { clickAllowed, tellClicker } from '../origin.js';

type MenuArgs = AllMiddlewareArgs<CarebotContext> & SlackActionMiddlewareArgs<BlockAction>;

const NO_CUSTOMER_TEXT =
  'This case was opened before carebot knew its customers, so it has no customer to link or note. Use a newer case of theirs.';

/**
 * The customer menu on a case card (`case_same_person`): "Same person as…" or "Customer note /
 * VIP", each a modal for the care team.
 */
export async function customerMenu({ ack, body, action, client, context }: MenuArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const choice = customerMenuChoice(action as Parameters<typeof customerMenuChoice>[0]);
  if (!choice) return;
  const { caseId } = choice;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'customer' }))) return;
  if (choice.item === 'note') {
    const profile = await customerProfile(ctx.db, caseId);
    if (!profile) return tellClicker(client, body, NO_CUSTOMER_TEXT);
    await client.views.open({ trigger_id: body.trigger_id, view: customerNoteModal(caseId, profile) });
    return;
  }
  const profile = await customerProfile(ctx.db, caseId);
  if (!profile) return tellClicker(client, body, NO_CUSTOMER_TEXT);
  const linked = await linkedAuthors(ctx.db, caseId);
  await client.views.open({ trigger_id: body.trigger_id, view: samePersonModal(caseId, linked) });
}
