import { postThreadMessage } from '../../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../../emulators/slack/signing.js';
import type { FakeSlack } from '../../../emulators/slack/web-api.js';
import { eventually } from './complaints.js';
import { AGENT, CARE_CHANNEL, SIGNING_SECRET } from './env.js';
import { cardPostsByCase } from './slack-posts.js';

/** The ts of a case's card once it is in Slack. */
export async function threadOf(slack: FakeSlack, caseId: number, timeoutMs = 15_000): Promise<string> {
  await eventually(() => cardPostsByCase(slack.calls).has(caseId), timeoutMs, 50);
  const ts = cardPostsByCase(slack.calls).get(caseId)?.[0]?.response?.ts;
  if (typeof ts !== 'string') throw new Error(`case ${caseId} never reached Slack`);
  return ts;
}

/** An agent presses Claim on the card (a signed block_actions request). */
export async function claim(baseUrl: string, caseId: number, threadTs: string, userId = AGENT) {
  const res = await postSlackInteraction(
    baseUrl,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(caseId),
      userId,
      channelId: CARE_CHANNEL,
      messageTs: threadTs,
    }),
  );
  if (res.status !== 200) throw new Error(`claim of case ${caseId} answered ${res.status}`);
}

/** The owner answers in the thread (a signed Events API message); carebot queues it as a reply. */
export async function answer(baseUrl: string, threadTs: string, text: string, userId = AGENT) {
  const res = await postThreadMessage(baseUrl, SIGNING_SECRET, {
    channel: CARE_CHANNEL,
    threadTs,
    user: userId,
    text,
  });
  if (res.status !== 200) throw new Error(`thread message answered ${res.status}`);
  return res.ts;
}
