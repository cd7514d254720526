import { caseHistory } from '../../care/customers.js';
import { HISTORY_LIMIT, historyModal, threadPermalinks } from '../../slack/customers.js';
import { type ButtonArgs, caseIdFrom } from '../context.js';
import { caseClickInPlace, tellClicker, WRONG_PLACE_TEXT } from '../origin.js';

/**
 * History on a case card: the customer's other cases (and their linked accounts'), in a modal.
 * Reading it needs no permission beyond seeing the card; the click must come from the card.
 */
export async function showHistory({ ack, body, action, client, context }: ButtonArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(action.value);
  if (!caseId) return;
  if (!(await caseClickInPlace(ctx, body, caseId))) {
    await tellClicker(client, body, WRONG_PLACE_TEXT);
    return;
  }
  const history = await caseHistory(ctx.db, caseId, HISTORY_LIMIT);
  if (!history) return;
  const threads = history.entries.flatMap((e) => (e.thread ? [e.thread] : []));
  const permalink = await threadPermalinks(client, threads);
  await client.views.open({ trigger_id: body.trigger_id, view: historyModal(caseId, history, permalink) });
}
