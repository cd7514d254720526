import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { createLogger } from '../../src/logger.js';

const eventually = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

describe('the sandbox with auto-assignment on (SANDBOX_ASSIGN_AFTER)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, assignAfter: '1s', logger: createLogger('silent') });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('hands a new case to Sam, then the next to Morgan, and says so in each thread', async () => {
    const post = (text: string) =>
      fetch(`${sandbox.url}/api/customer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Jane Doe', text }),
      });
    expect((await post('My parcel never arrived')).status).toBe(200);
    const said = () =>
      sandbox.workspace.messages.filter((m) => m.threadTs && m.text.includes('automatically (round robin)'));
    await eventually(() => expect(said()).toHaveLength(1));
    expect(said()[0]?.text).toContain('Assigned to <@U0AGENT01>');
    expect((await post('The app logs me out every hour')).status).toBe(200);
    await eventually(() => expect(said()).toHaveLength(2));
    expect(said()[1]?.text).toContain('Assigned to <@U0MANAGER>');
  });
});
