import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

const AGENT = 'U0AGENT01';

describe('the sandbox', () => {
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
  const cardFor = (caseId: number) =>
    sandbox.workspace.messages.find((m) => !m.threadTs && m.text.startsWith(`Case #${caseId} `));

  it('serves the page and an event stream of the workspace', async () => {
    const page = await fetch(`${sandbox.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('carebot sandbox');
    const controller = new AbortController();
    const events = await fetch(`${sandbox.url}/events`, { signal: controller.signal });
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    const reader = events.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    expect(first).toMatch(/^data: \{"channel":"C0SANDBOX"/);
    controller.abort();
  });

  it('runs the loop: complaint, card, claim, thread reply, reply on the forum', async () => {
    const posted = await post('/api/customer', { name: 'Jane Doe', text: 'My parcel never arrived' });
    const caseId = posted.json.caseId as number;
    expect(caseId).toBeGreaterThan(0);
    const card = await vi.waitFor(() => {
      const found = cardFor(caseId);
      expect(found?.blocks).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    const claimed = await post('/api/action', {
      userId: AGENT,
      messageTs: card.ts,
      element: {
        type: 'button',
        action_id: 'case_claim',
        block_id: `case_actions:${caseId}`,
        value: String(caseId),
      },
    });
    expect(claimed.json.status).toBe(200);
    await vi.waitFor(() => expect(JSON.stringify(cardFor(caseId)?.blocks)).toContain('case_unclaim'));
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Sorry Jane, I am on it.' });
    const [reply] = await vi.waitFor(
      () => {
        expect(sandbox.forum.replies).toHaveLength(1);
        return sandbox.forum.replies;
      },
      { timeout: 10_000 },
    );
    expect(reply).toMatchObject({
      inReplyTo: posted.json.id,
      text: 'Sorry Jane, I am on it.',
      agent: { id: AGENT, name: 'sam' },
      verified: true,
    });
  });

  it('opens the escalate modal for the user who clicked, and submits it', async () => {
    const posted = await post('/api/customer', { name: 'Tom', text: 'The app logs me out at checkout' });
    const caseId = posted.json.caseId as number;
    const card = await vi.waitFor(() => {
      const found = cardFor(caseId);
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    await post('/api/action', {
      userId: AGENT,
      messageTs: card.ts,
      element: {
        type: 'button',
        action_id: 'case_escalate',
        block_id: `case_actions:${caseId}`,
        value: String(caseId),
      },
    });
    const view = await vi.waitFor(() => {
      const top = sandbox.workspace.topView(AGENT);
      expect(top?.callback_id).toBeDefined();
      return top as Record<string, unknown>;
    });
    const blocks = view.blocks as Array<{
      type: string;
      block_id: string;
      element?: Record<string, unknown>;
    }>;
    const teamBlock = blocks.find((b) => b.element?.type === 'multi_static_select');
    const option = ((teamBlock?.element?.options ?? []) as unknown[])[0];
    const values: Record<string, Record<string, unknown>> = {};
    for (const b of blocks.filter((x) => x.type === 'input')) {
      const el = b.element as { type: string; action_id: string; options?: unknown[] };
      values[b.block_id] = {
        [el.action_id]:
          el.type === 'multi_static_select'
            ? { type: el.type, selected_options: [option] }
            : el.type === 'radio_buttons'
              ? { type: el.type, selected_option: el.options?.[0] ?? null }
              : { type: el.type, value: 'Customer threatens to go to the press' },
      };
    }
    const submitted = await post('/api/view-submit', { userId: AGENT, viewId: view.id, values });
    expect(submitted.json.status).toBe(200);
    expect(submitted.json.errors).toBeUndefined();
    expect(sandbox.workspace.topView(AGENT)).toBeUndefined();
    await vi.waitFor(() =>
      expect(sandbox.workspace.messages.some((m) => m.threadTs === card.ts && m.text.includes('PR'))).toBe(
        true,
      ),
    );
  });

  it('answers /care-stats with an ephemeral for the manager only', async () => {
    await post('/api/message', { userId: 'U0MANAGER', text: '/care-stats' });
    await vi.waitFor(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) => m.ephemeralFor === 'U0MANAGER' && m.text.includes('Care stats'),
        ),
      ).toBe(true),
    );
  });

  it('plays the demo morning: a high-reach author and a PR keyword both raise the priority', async () => {
    await post('/api/demo', {});
    await vi.waitFor(
      () => expect(sandbox.forum.posts.filter((p) => p.caseId).length).toBeGreaterThanOrEqual(6),
      {
        timeout: 10_000,
      },
    );
    const tom = sandbox.forum.posts.find((p) => p.author.handle === 'techtom');
    const priya = sandbox.forum.posts.find((p) => p.author.handle === 'priya_s');
    await vi.waitFor(() => {
      for (const caseId of [tom?.caseId, priya?.caseId]) {
        expect(JSON.stringify(cardFor(caseId as number)?.blocks)).toContain('P1');
      }
    });
  });
});
