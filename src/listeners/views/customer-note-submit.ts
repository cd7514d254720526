import { MAX_NOTE_LENGTH, setCustomerProfile } from '../../care/customers.js';
import { CUSTOMER_BLOCKS, CUSTOMER_ELEMENTS, profileChangeText } from '../../slack/customers.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

/** Customer note / VIP submitted: saved on the case's author, told in the thread, cards redrawn. */
export async function customerNoteSubmit({ ack, body, view, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const caseId = caseIdFrom(view.private_metadata);
  const values = view.state.values;
  const note = values[CUSTOMER_BLOCKS.note]?.[CUSTOMER_ELEMENTS.note]?.value ?? '';
  const vip = (values[CUSTOMER_BLOCKS.vip]?.[CUSTOMER_ELEMENTS.vip]?.selected_options ?? []).some(
    (o) => o.value === 'vip',
  );
  const error = (text: string) =>
    ack({ response_action: 'errors', errors: { [CUSTOMER_BLOCKS.note]: text } });
  if (!caseId) return error('This case no longer exists.');
  const may = await ctx.permissions.check(actorOf(body), { action: 'customer' });
  if (!may.allowed) return error(may.message);
  const userId = body.user.id;
  const result = await setCustomerProfile(ctx.db, ctx.clock, { caseId, note, vip, actor: userId }, (change) =>
    profileChangeText(userId, change),
  );
  switch (result.kind) {
    case 'too_long':
      return error(
        `A note holds at most ${MAX_NOTE_LENGTH} characters; this one has ${result.length}. Nothing was saved.`,
      );
    case 'not_found':
      return error('This case no longer exists.');
    case 'no_customer':
      return error('This case was opened before carebot knew its customers; nothing was saved.');
    case 'saved':
      await ack();
      if (result.noteChanged || result.vipChanged) {
        ctx.logger.info(
          { caseId, userId, vip: result.vipChanged ? vip : undefined },
          'customer note changed',
        );
        ctx.kickSync();
      }
  }
}
