import type { CustomerPlatform, CustomerSide, NewPost } from '../emulators/customer-side.js';

/** One post of the demo; a follow-up names the step whose conversation it continues. */
export interface DemoStep {
  platform: CustomerPlatform;
  post: NewPost;
  followUpOf?: number;
}

/**
 * A small realistic morning across the platforms: an ordinary late parcel on the forum, a
 * high-reach X author (their followers raise the priority), a Facebook post whose wording needs PR
 * (the keyword rule escalates it), a small X question, follow-ups in two conversations, and a
 * one-star Google Play review (P2 by its rating).
 */
export const DEMO_MORNING: DemoStep[] = [
  {
    platform: 'forum',
    post: {
      name: 'Jane Doe',
      handle: 'jane',
      text: 'My order #4411 was due on Friday and the tracking has not moved since Wednesday. Where is it?',
      conversationId: 'demo-late-parcel',
    },
  },
  {
    platform: 'x',
    post: {
      name: 'Tech Tom',
      handle: 'techtom',
      followers: 250_000,
      text: 'Third time this month the app logs me out mid-checkout. Lost my basket again. Not great.',
    },
  },
  {
    platform: 'facebook',
    post: {
      name: 'Priya Shah',
      handle: 'priya_s',
      text: 'The charger you sold me melted and nearly started a fire. I have spoken to a journalist about it.',
    },
  },
  {
    platform: 'x',
    post: {
      name: 'Maya Lin',
      handle: 'mayalin',
      followers: 310,
      text: 'is the WINTER10 code still on? checkout says it expired yesterday',
    },
  },
  {
    platform: 'forum',
    post: { name: 'Jane Doe', handle: 'jane', text: 'Still nothing today. I needed it for the weekend.' },
    followUpOf: 0,
  },
  {
    platform: 'x',
    post: { name: 'Tech Tom', handle: 'techtom', text: 'Happened again just now, on Android 15.' },
    followUpOf: 1,
  },
  {
    platform: 'google_play',
    post: {
      name: 'Ravi Kumar',
      text: 'Crashes every time I open the basket since the last update. Uninstalling.',
      stars: 1,
    },
  },
];

/** The words the sandbox's escalation rule sends to PR (see the generated config). */
export const PR_KEYWORDS = ['journalist', 'fire', 'lawyer', 'lawsuit', 'dangerous', 'press'];

export async function playDemo(sides: Record<CustomerPlatform, CustomerSide>, pauseMs = 400): Promise<void> {
  const conversations: string[] = [];
  for (const step of DEMO_MORNING) {
    const followed = step.followUpOf === undefined ? undefined : conversations[step.followUpOf];
    const item = await sides[step.platform].post({
      ...step.post,
      ...(followed ? { conversationId: followed } : {}),
    });
    conversations.push(item.conversationId);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
