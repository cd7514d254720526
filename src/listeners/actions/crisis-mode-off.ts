import { actorOf, type ButtonArgs } from '../context.js';
import { turnCrisisModeOff } from '../crisis-mode.js';
import { tellPresser } from '../origin.js';

/** Lift crisis mode, from an alert, its all-clear or the banner; the answer is private. */
export async function crisisModeOff(args: ButtonArgs): Promise<void> {
  await args.ack();
  await tellPresser(args, await turnCrisisModeOff(args.context.carebot, actorOf(args.body)));
}
