import type { Forum, NewPost } from './forum.js';

/**
 * A small realistic morning on the forum: an ordinary late parcel, a high-reach author (their
 * followers raise the priority), a complaint whose wording needs PR (the keyword rule escalates it),
 * and a follow-up on the first conversation.
 */
export const DEMO_MORNING: NewPost[] = [
  {
    name: 'Jane Doe',
    handle: 'jane',
    text: 'My order #4411 was due on Friday and the tracking has not moved since Wednesday. Where is it?',
    conversationId: 'demo-late-parcel',
  },
  {
    name: 'Tech Tom',
    handle: 'techtom',
    followers: 250_000,
    text: 'Third time this month the app logs me out mid-checkout. Lost my basket again. Not great.',
  },
  {
    name: 'Priya Shah',
    handle: 'priya_s',
    text: 'The charger you sold me melted and nearly started a fire. I have spoken to a journalist about it.',
  },
  {
    name: 'Jane Doe',
    handle: 'jane',
    text: 'Still nothing today. I needed it for the weekend.',
    conversationId: 'demo-late-parcel',
  },
];

/** The words the sandbox's escalation rule sends to PR (see the generated config). */
export const PR_KEYWORDS = ['journalist', 'fire', 'lawyer', 'lawsuit', 'dangerous', 'press'];

export async function playDemo(forum: Forum, pauseMs = 400): Promise<void> {
  for (const post of DEMO_MORNING) {
    await forum.post(post);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
