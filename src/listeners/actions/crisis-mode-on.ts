import { actorOf, type ButtonArgs, caseIdFrom } from '../context.js';
import { turnCrisisModeOn } from '../crisis-mode.js';
import { tellPresser } from '../origin.js';

/** Crisis mode on, from an alert; the answer is private. */
export async function crisisModeOn(args: ButtonArgs): Promise<void> {
  await args.ack();
  const alertId = caseIdFrom(args.action.value);
  const text = await turnCrisisModeOn(args.context.carebot, {
    actor: actorOf(args.body),
    reason: alertId ? `turned on from alert ${alertId}` : 'turned on by hand',
    alertId,
  });
  await tellPresser(args, text);
}
