import type { App, BlockButtonAction } from '@slack/bolt';
import { CRISIS_ACTIONS } from '../../slack/crisis.js';
import { actorOf, caseIdFrom, type ListenerContext } from '../context.js';
import { turnCrisisModeOff, turnCrisisModeOn } from '../crisis-mode.js';
import { tellPresser } from './incident-buttons.js';

/** Crisis mode on and off from an alert, its all-clear or the banner; the answer is private. */
export function registerCrisisButtons(app: App, ctx: ListenerContext): void {
  app.action<BlockButtonAction>(CRISIS_ACTIONS.modeOn, async (args) => {
    await args.ack();
    const alertId = caseIdFrom(args.action.value);
    const text = await turnCrisisModeOn(ctx, {
      actor: actorOf(args.body),
      reason: alertId ? `turned on from alert ${alertId}` : 'turned on by hand',
      alertId,
    });
    await tellPresser(args, text);
  });
  app.action<BlockButtonAction>(CRISIS_ACTIONS.modeOff, async (args) => {
    await args.ack();
    await tellPresser(args, await turnCrisisModeOff(ctx, actorOf(args.body)));
  });
}
