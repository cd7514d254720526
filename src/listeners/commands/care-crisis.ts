import type { SlashCommand } from '@slack/bolt';
import type { ListenerContext } from '../context.js';
import { turnCrisisModeOff, turnCrisisModeOn } from '../crisis-mode.js';

export const CRISIS_USAGE = '`/care crisis on [why]` turns crisis mode on; `/care crisis off` lifts it.';

/** `/care crisis on [why]` and `/care crisis off`; the answer is private. */
export async function careCrisis(ctx: ListenerContext, command: SlashCommand, args: string): Promise<string> {
  const [what, ...rest] = args.trim().split(/\s+/);
  if (what?.toLowerCase() === 'on') {
    const reason = rest.join(' ').trim().slice(0, 200) || 'turned on by hand';
    return turnCrisisModeOn(ctx, { actor: { userId: command.user_id }, reason });
  }
  if (what?.toLowerCase() === 'off') return turnCrisisModeOff(ctx, { userId: command.user_id });
  return CRISIS_USAGE;
}
