import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join('test-artifacts', 'sandbox');

/** The whole loop in a real browser: customer complaint → card → Claim → thread reply → forum. */
describe.skipIf(!existsSync(CHROMIUM))('the sandbox in a real browser', () => {
  let sandbox: Sandbox;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    sandbox = await startSandbox({ port: 0, replyDelay: '1s', logger: createLogger('silent') });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  it('posts a complaint, claims it, replies, and shows the reply on the customer side', async () => {
    await page.goto(`${sandbox.url}/`);
    await page.locator('#user option').first().waitFor({ state: 'attached' });
    await page.selectOption('#user', 'U0AGENT01');

    await page.fill('#cust-name', 'Jane Doe');
    await page.fill('#cust-text', 'My order #4411 never arrived and tracking is stuck.');
    await page.click('#cust-send');
    const card = page.locator('.card', { hasText: 'Case #1' });
    await card.getByRole('button', { name: 'Claim', exact: true }).waitFor();
    await page.screenshot({ path: join(SHOTS, '1-card.png') });

    await card.getByRole('button', { name: 'Claim', exact: true }).click();
    await card.getByRole('button', { name: 'Unclaim', exact: true }).waitFor();
    await page.screenshot({ path: join(SHOTS, '2-claimed.png') });

    await card
      .locator('textarea.thread-text')
      .fill('Hi Jane, sorry about this. I am checking with the courier.');
    await card.locator('button.thread-send').click();
    await card.getByText('Sending to forum').waitFor();

    const reply = page.locator('.forum-reply', { hasText: 'checking with the courier' });
    await reply.waitFor({ timeout: 15_000 });
    expect(await reply.textContent()).toContain('sam');
    expect(sandbox.forum.replies).toHaveLength(1);
    await page.screenshot({ path: join(SHOTS, '3-reply-on-forum.png') });
  }, 60_000);
});
