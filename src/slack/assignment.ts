import { mentionUser } from './mrkdwn.js';

/** What carebot says when it hands out cases by itself (assignment.mode `round_robin`). */

/** In the case thread: who has it now, and how to give it back. */
export const autoAssignedText = (userId: string) =>
  `:robot_face: Assigned to ${mentionUser(userId)} automatically (round robin) — Unclaim to hand it back.`;

/** In the channel, once per stretch of nobody being available. */
export function nobodyAvailableText(waiting: number): string {
  const cases = waiting === 1 ? '1 unclaimed case waits' : `${waiting} unclaimed cases wait`;
  return `:hourglass_flowing_sand: Nobody on the care team can take a case right now (away, at capacity or off shift), so ${cases} here to be claimed by hand. carebot keeps trying and assigns them as soon as someone is available; it says this once until then.`;
}
