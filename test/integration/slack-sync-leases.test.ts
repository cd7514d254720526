import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { cases } from '../../src/db/schema.js';
import { complaint, postWebhook, useCarebot } from '../support/carebot.js';

describe('Slack sync leases', () => {
  const carebot = useCarebot();

  it('leaves alone a case whose lease another worker took while this one was posting', async () => {
    const t = carebot();
    const takenUntil = new Date(t.clock.now().getTime() + 10 * 60_000);
    let takenOver = false;
    let taking: Promise<void> | undefined;
    // While Slack answers the card's post, this worker's lease runs out and another worker leases
    // the case (its own token, its own time).
    const off = t.slack.onCall((call) => {
      if (call.method !== 'chat.postMessage' || takenOver) return;
      takenOver = true;
      // A drizzle query runs when awaited or then'd; the listener cannot await.
      taking = t.db.db
        .update(cases)
        .set({ slackLeaseUntil: takenUntil, slackLeaseToken: 'another-worker' })
        .where(eq(cases.id, 1))
        .then(() => {});
    });
    await postWebhook(t, complaint({ id: 'lease-1', conversationId: 'lease-c1' }));
    await t.carebot.sync.idle();
    await t.carebot.sync.runOnce();
    off();
    await taking;
    expect(takenOver).toBe(true);
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    // Ending its lease would have freed the case under the other worker's feet.
    expect(row?.slackLeaseUntil?.toISOString()).toBe(takenUntil.toISOString());
    expect(row?.slackLeaseToken).toBe('another-worker');
    expect(t.logs.join('')).toContain('Slack lease on the case was lost');
  });
});
