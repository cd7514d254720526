import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { createLogger } from '../../src/logger.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join('test-artifacts', 'sandbox');
// Generous for a loaded two-core CI machine; every wait is for an element, never a fixed sleep.
const WAIT = { timeout: 30_000 };

/**
 * The sandbox in a real browser, as a person would use it: a customer complaint becomes a card,
 * an agent claims and answers it, escalates it through the modal, an X customer gets an answer
 * under the right post, and a manager reads /care-stats. Each step leaves a screenshot in
 * test-artifacts/sandbox/.
 */
describe.skipIf(!existsSync(CHROMIUM))('the sandbox in a real browser', () => {
  let sandbox: Sandbox;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const forumCard = () => page.locator('.card', { hasText: 'My order #4411 never arrived' });

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
    page.setDefaultTimeout(WAIT.timeout);
    await page.goto(`${sandbox.url}/`);
    await page.locator('#user option').first().waitFor({ state: 'attached' });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  it('posts a forum complaint, claims it, replies, and shows the reply under that post', async () => {
    await page.selectOption('#user', 'U0AGENT01');
    await page.selectOption('#cust-platform', 'forum');
    await page.fill('#cust-name', 'Jane Doe');
    await page.fill('#cust-text', 'My order #4411 never arrived and tracking is stuck.');
    await page.click('#cust-send');
    const card = forumCard();
    await card.getByRole('button', { name: 'Claim', exact: true }).waitFor(WAIT);
    await shot('1-card');

    await card.getByRole('button', { name: 'Claim', exact: true }).click();
    await card.getByRole('button', { name: 'Unclaim', exact: true }).waitFor(WAIT);
    await shot('2-claimed');

    await card
      .locator('textarea.thread-text')
      .fill('Hi Jane, sorry about this. I am checking with the courier.');
    await card.locator('button.thread-send').click();
    await card.getByText('Sending to forum').waitFor(WAIT);

    const post = sandbox.forum.posts.find((p) => p.text.startsWith('My order #4411'));
    expect(post).toBeDefined();
    const reply = page.locator(`[data-post="${post?.id}"] > .children > .brand-reply`, {
      hasText: 'checking with the courier',
    });
    await reply.waitFor(WAIT);
    expect(await reply.textContent()).toContain('sam');
    expect(sandbox.forum.replies).toHaveLength(1);
    await shot('3-reply-on-forum');
  }, 90_000);

  it('escalates the case to PR through the modal', async () => {
    const card = forumCard();
    await card.getByRole('button', { name: 'Escalate', exact: true }).click();
    const modal = page.locator('#modal');
    await modal.getByText('What do you need from them?').waitFor(WAIT);
    await page.getByLabel('Teams').selectOption({ label: 'PR' });
    await page.getByLabel('Urgent: it could become a crisis').check();
    await page
      .getByLabel('What do you need from them?')
      .fill('The customer says a journalist is asking about late parcels.');
    await shot('4-escalate-modal');
    await page.click('#modal-submit');
    await modal.waitFor({ state: 'detached', ...WAIT });

    // The thread pulls the PR group in, and the card says where the case went.
    await card.getByText('needs PR on this case').waitFor(WAIT);
    await card.getByText('@pr-team').first().waitFor(WAIT);
    await card.getByText('Escalated to PR').waitFor(WAIT);
    await card.getByRole('button', { name: 'Acknowledge', exact: true }).waitFor(WAIT);
    await shot('5-escalated');
  }, 90_000);

  it('answers an X customer, and the answer shows under the post it answers', async () => {
    await page.selectOption('#cust-platform', 'x');
    await page.fill('#cust-name', 'Tech Tom');
    await page.fill('#cust-followers', '250000');
    await page.fill('#cust-text', 'The app logged me out mid-checkout again and my basket is gone.');
    await page.click('#cust-send');
    const card = page.locator('.card', { hasText: 'my basket is gone' });
    await card.getByRole('button', { name: 'Claim', exact: true }).waitFor(WAIT);
    // 250,000 followers: the card says so and the priority rule made it P1.
    await card
      .getByText(/P1 \(reach: 250k followers/)
      .first()
      .waitFor(WAIT);
    expect(await card.locator('select').first().inputValue()).toBe('P1');

    await card.getByRole('button', { name: 'Claim', exact: true }).click();
    await card.getByRole('button', { name: 'Unclaim', exact: true }).waitFor(WAIT);
    await card
      .locator('textarea.thread-text')
      .fill('Sorry Tom, a fix is rolling out today. DM us your order?');
    await card.locator('button.thread-send').click();
    await card.getByText('Sending to X').waitFor(WAIT);

    const tweet = sandbox.x.tweets.find((t) => t.text.includes('my basket is gone'));
    expect(tweet).toBeDefined();
    const conversation = page.locator(`.conversation[data-platform="x"][data-conversation="${tweet?.id}"]`);
    const answer = conversation.locator(`[data-post="${tweet?.id}"] > .children > .brand-reply`, {
      hasText: 'a fix is rolling out today',
    });
    await answer.waitFor(WAIT);
    expect(await answer.textContent()).toContain('Acme Care');
    // It went out through carebot's X adapter: an OAuth-signed POST /2/tweets that the sandbox X accepted.
    expect(sandbox.x.calls).toContainEqual({ method: 'POST', path: '/2/tweets', status: 201 });
    await shot('6-x-reply');
  }, 90_000);

  it('runs /care-stats from the composer as the manager and shows the figures', async () => {
    await page.selectOption('#user', 'U0MANAGER');
    await page.fill('#channel-text', '/care-stats');
    await page.click('#channel-send');
    const stats = page.locator('.msg.ephemeral', { hasText: 'Care stats' });
    await stats.waitFor(WAIT);
    await stats.getByText('New cases', { exact: true }).waitFor(WAIT);
    const text = (await stats.textContent()) ?? '';
    // Two cases so far (the forum one and the X one), both open and claimed.
    expect(text).toMatch(/New cases\s*2\b/);
    expect(text).toMatch(/Open now\s*2: 0 unclaimed, 2 claimed/);
    expect(text).toContain('By platform');
    await stats.scrollIntoViewIfNeeded();
    await shot('7-care-stats');
  }, 90_000);

  it('draws links to http(s) only, with the target kept inside its attribute', async () => {
    await page.selectOption('#user', 'U0AGENT01');
    await page.fill(
      '#channel-text',
      'links: <javascript:alert(1)|the evil link>, <https://x.example/" onmouseover="alert(2)" x="|the sneaky link> and <https://shop.example/a?b=1&c=2|the good link>',
    );
    await page.click('#channel-send');
    const message = page.locator('.msg', { hasText: 'the good link' });
    await message.waitFor(WAIT);
    expect(await message.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
      'https://x.example/%22%20onmouseover=%22alert(2)%22%20x=%22',
      'https://shop.example/a?b=1&c=2',
    ]);
    await message.getByText('the evil link').waitFor(WAIT);
    expect(await page.locator('a[href^="javascript:" i]').count()).toBe(0);
    expect(await page.locator('[onmouseover]').count()).toBe(0);
  }, 60_000);

  it('a page on another origin cannot post into the sandbox', async () => {
    const target = `${sandbox.url}/api/customer`;
    const body = (text: string) => JSON.stringify({ name: 'Mallory', text });
    // What a hostile page can do without the user noticing: a no-cors fetch (text/plain, no
    // preflight), an auto-submitted form, and a JSON fetch (preflighted, which the sandbox never allows).
    const hostile = `<!doctype html><iframe name="sink"></iframe>
<form id="f" method="post" action="${target}" enctype="text/plain" target="sink"><input name='${body('by a cross-site form').slice(0, -2)}' value='"}'></form>
<script>
(async () => {
  const t = ${JSON.stringify(target)};
  await fetch(t, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(body('by a no-cors fetch'))} }).catch(() => {});
  await fetch(t, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body('by a JSON fetch'))} }).catch(() => {});
  await new Promise((done) => { document.querySelector('iframe').onload = done; document.getElementById('f').submit(); });
  document.title = 'done';
})();
</script>`;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(hostile);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const elsewhere = await browser.newPage();
    try {
      await elsewhere.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await elsewhere.waitForFunction("document.title === 'done'", undefined, WAIT);
    } finally {
      await elsewhere.close();
      server.closeAllConnections();
      server.close();
    }
    const texts = sandbox.forum.posts.map((p) => p.text);
    for (const how of ['by a cross-site form', 'by a no-cors fetch', 'by a JSON fetch'])
      expect({ how, posted: texts.some((t) => t.includes(how)) }).toEqual({ how, posted: false });
  }, 60_000);
});
