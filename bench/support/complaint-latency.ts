import type { startFakeSlack } from '../../emulators/slack/web-api.js';
import { postComplaint } from '../../test/reliability/support/complaints.js';
import { cardPostsByCase } from '../../test/reliability/support/slack-posts.js';
import { num } from './report.js';
import { paced, sleep } from './stats.js';

type FakeSlack = Awaited<ReturnType<typeof startFakeSlack>>;

/**
 * Waits until carebot's start-up work on a seeded history is done: the first SLA sweep (every
 * 30 s) has run and Slack has been quiet for 3 s. Returns the Slack calls it saw meanwhile.
 */
export async function waitForQuietStart(slack: FakeSlack, minMs = 35_000): Promise<number> {
  const started = Date.now();
  let seen = -1;
  let quietSince = Date.now();
  while (Date.now() - started < minMs || Date.now() - quietSince < 3_000) {
    if (slack.calls.length !== seen) {
      seen = slack.calls.length;
      quietSince = Date.now();
    }
    await sleep(200);
  }
  console.log(
    `  the history's work in flight done: ${num(seen)} Slack calls in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return seen;
}

export interface ComplaintLatency {
  /** From the webhook's 202 arriving at the sender to the fake Slack receiving the card, per case. */
  latencies: number[];
  missing: number;
  refused: number;
}

/** `count` new complaints at `rate` a second to carebot's webhook; each one's time until its card is in Slack. */
export async function complaintLatency(
  carebotUrl: string,
  slack: FakeSlack,
  count: number,
  rate: number,
  prefix = 'lat',
): Promise<ComplaintLatency> {
  const acceptedAt = new Map<number, number>();
  const pending: Array<Promise<void>> = [];
  let refused = 0;
  await paced(count, 1000 / rate, (i) => {
    pending.push(
      postComplaint(carebotUrl, {
        source: 'forum',
        id: `${prefix}-${i}`,
        conversationId: `${prefix}-${i}`,
        author: { id: `u${i}`, name: 'Jane Doe' },
        text: `My order never arrived [${prefix}-${i}]`,
      }).then((a) => {
        if (a.status === 202) acceptedAt.set(Number(a.json?.caseId), a.at);
        else refused += 1;
      }),
    );
  });
  await Promise.all(pending);
  const deadline = Date.now() + 30_000;
  while (cardPostsByCase(slack.calls).size < acceptedAt.size && Date.now() < deadline) await sleep(100);
  const cards = cardPostsByCase(slack.calls);
  const latencies: number[] = [];
  let missing = 0;
  for (const [caseId, at] of acceptedAt) {
    const post = cards.get(caseId)?.[0];
    if (post) latencies.push(Math.max(0, post.at - at));
    else missing += 1;
  }
  return { latencies, missing, refused };
}
