import { linkSamePerson, unlinkAuthors } from '../../care/customers.js';
import { CUSTOMER_BLOCKS, CUSTOMER_ELEMENTS, linkedText, unlinkedText } from '../../slack/customers.js';
import { actorOf, caseIdFrom, type ViewSubmitArgs } from '../context.js';

const LINK_ERRORS = {
  not_found: 'This case no longer exists.',
  other_not_found: 'There is no case with that number.',
  no_customer: 'That case was opened before carebot knew its customers; give a newer case of theirs.',
  same_author: 'That case is from this very author; give a case of their other account.',
  already_linked: 'Already linked: that author is the same person as this one.',
} as const;

/** "Same person as…" submitted: link to the author of the given case, and/or unlink the ticked ones. */
export async function samePersonSubmit({ ack, body, view, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const caseId = caseIdFrom(view.private_metadata);
  const values = view.state.values;
  const typed = values[CUSTOMER_BLOCKS.otherCase]?.[CUSTOMER_ELEMENTS.otherCase]?.value?.trim() ?? '';
  const ticked = (values[CUSTOMER_BLOCKS.unlink]?.[CUSTOMER_ELEMENTS.unlink]?.selected_options ?? [])
    .map((o) => Number(o.value))
    .filter((n) => Number.isSafeInteger(n) && n > 0);
  const otherCaseId = typed ? caseIdFrom(typed.replace(/^#/, '')) : undefined;
  const error = (text: string) =>
    ack({ response_action: 'errors', errors: { [CUSTOMER_BLOCKS.otherCase]: text } });
  if (!caseId) return error(LINK_ERRORS.not_found);
  if (typed && !otherCaseId) return error('Give a case number, like 42.');
  if (!otherCaseId && !ticked.length)
    return error('Give a case number of the same person, or tick an author to unlink.');
  const may = await ctx.permissions.check(actorOf(body), { action: 'customer' });
  if (!may.allowed) return error(may.message);
  const userId = body.user.id;
  if (otherCaseId) {
    const linked = await linkSamePerson(ctx.db, ctx.clock, { caseId, otherCaseId, actor: userId }, (r) =>
      linkedText(userId, r),
    );
    if (linked.kind !== 'linked') return error(LINK_ERRORS[linked.kind]);
  }
  if (ticked.length) {
    await unlinkAuthors(ctx.db, ctx.clock, { caseId, customerIds: ticked, actor: userId }, (authors) =>
      unlinkedText(userId, authors),
    );
  }
  await ack();
  ctx.logger.info({ caseId, otherCaseId, unlinked: ticked.length, userId }, 'customer links changed');
  ctx.kickSync();
}
