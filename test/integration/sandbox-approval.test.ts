import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { createLogger } from '../../src/logger.js';

const TAYLOR = 'U0TRAINEE';
const MORGAN = 'U0MANAGER';
const eventually = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

describe('reply approval in the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, replyDelay: '1s', logger: createLogger('silent') });
    // A fresh sandbox starts every server and unpacks its database: slow on a busy machine.
  }, 120_000);
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

  it('Taylor (trainee) answers, Morgan approves, and the answer reaches the forum once', async () => {
    const posted = await post('/api/customer', { name: 'Jane Doe', text: 'Where is my refund?' });
    const caseId = posted.json.caseId as number;
    const card = await eventually(() => {
      const found = sandbox.workspace.messages.find(
        (m) => !m.threadTs && m.text.startsWith(`Case #${caseId} `),
      );
      expect(found?.blocks).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    await post('/api/message', { userId: TAYLOR, threadTs: card.ts, text: 'Your refund left today.' });
    const approval = await eventually(() => {
      const found = sandbox.workspace.messages.find(
        (m) =>
          m.threadTs === card.ts &&
          !m.ephemeralFor &&
          JSON.stringify(m.blocks ?? []).includes('reply_approve'),
      );
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(JSON.stringify(approval.blocks)).toContain('<!subteam^S0APPROVERS>');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sandbox.forum.replies).toHaveLength(0);

    const buttons = (
      approval.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>
    ).flatMap((b) => b.elements ?? []);
    const replyId = buttons.find((e) => e.action_id === 'reply_approve')?.value;
    expect(replyId).toMatch(/^\d+$/);
    const pressed = await post('/api/action', {
      userId: MORGAN,
      messageTs: approval.ts,
      element: { type: 'button', action_id: 'reply_approve', block_id: 'approval', value: replyId },
    });
    expect(pressed.json.status).toBe(200);
    const [reply] = await eventually(() => {
      expect(sandbox.forum.replies).toHaveLength(1);
      return sandbox.forum.replies;
    });
    expect(reply).toMatchObject({ text: 'Your refund left today.', agent: { id: TAYLOR } });
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) =>
            m.threadTs === card.ts && m.text.includes(`<@${TAYLOR}> your reply was approved by <@${MORGAN}>`),
        ),
      ).toBe(true),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sandbox.forum.replies).toHaveLength(1);
  });
});
