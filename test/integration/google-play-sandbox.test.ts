import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { createLogger } from '../../src/logger.js';

const AGENT = 'U0AGENT01';
/** The Play poller runs every 10 s in the sandbox, on wall-clock time; CI shares two cores. */
const eventually = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 40_000, interval: 100 });

describe('the sandbox’s Google Play', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, replyDelay: '1s', logger: createLogger('silent') });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('a one-star review becomes a card; the owner’s answer is the developer reply under it', async () => {
    const posted = await post('/api/customer', {
      platform: 'google_play',
      name: 'Ravi',
      text: 'App crashes when I open my basket',
    });
    expect(posted.json).toMatchObject({ platform: 'google_play', kind: 'customer', stars: 1 });
    const reviewId = posted.json.conversationId as string;
    const card = await eventually(() => {
      const found = sandbox.workspace.messages.find(
        (m) => !m.threadTs && JSON.stringify(m.blocks ?? []).includes('App crashes when I open my basket'),
      );
      expect(found?.blocks).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    const blocks = JSON.stringify(card.blocks);
    expect(blocks).toContain('★☆☆☆☆ 1 of 5');
    expect(blocks).toContain('1-star review');
    const caseId = Number(/^Case #(\d+) /.exec(card.text)?.[1]);
    await post('/api/action', {
      userId: AGENT,
      messageTs: card.ts,
      element: {
        type: 'button',
        action_id: 'case_claim',
        block_id: `case_actions:${caseId}`,
        value: String(caseId),
      },
    });
    await eventually(() =>
      expect(JSON.stringify(sandbox.workspace.messages.find((m) => m.ts === card.ts)?.blocks)).toContain(
        'case_unclaim',
      ),
    );
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Sorry Ravi! 4.2.2 fixes it.' });
    const reply = await eventually(() => {
      const found = sandbox.googlePlay.items().find((i) => i.kind === 'brand');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(reply).toMatchObject({
      conversationId: reviewId,
      parentId: posted.json.id,
      text: 'Sorry Ravi! 4.2.2 fixes it.',
    });

    // Ravi edits the review to four stars: a follow-up in the same thread, with the old rating.
    await post('/api/customer', {
      platform: 'google_play',
      name: 'Ravi',
      text: 'Fixed now, thanks',
      stars: 4,
      conversationId: reviewId,
    });
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) => m.threadTs === card.ts && JSON.stringify(m).includes('edited review: was 1★'),
        ),
      ).toBe(true),
    );
    expect(sandbox.addresses().googlePlay.address).toBe('127.0.0.1');
    expect(sandbox.workspace.messages.filter((m) => m.text.includes('is paused'))).toEqual([]);
  });
});
