import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/index.js';
import { createLogger } from '../../src/logger.js';

const AGENT = 'U0AGENT01';
/** Waits for what carebot does in the background; generous, as CI shares two cores. */
const eventually = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

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
  /** The case card quoting these words of the customer's. */
  const cardWith = (words: string) =>
    sandbox.workspace.messages.find(
      (m) => !m.threadTs && !m.ephemeralFor && JSON.stringify(m.blocks ?? []).includes(words),
    );
  const waitForCard = (words: string) =>
    eventually(() => {
      const found = cardWith(words);
      expect(found?.blocks).toBeDefined();
      return found as NonNullable<typeof found>;
    });
  const caseIdOf = (card: { text: string }) => Number(/^Case #(\d+) /.exec(card.text)?.[1]);
  const claim = async (card: { ts: string; text: string }) => {
    const caseId = caseIdOf(card);
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
    await eventually(() => expect(JSON.stringify(cardFor(caseId)?.blocks)).toContain('case_unclaim'));
  };

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
    const card = await eventually(() => {
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
    await eventually(() => expect(JSON.stringify(cardFor(caseId)?.blocks)).toContain('case_unclaim'));
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Sorry Jane, I am on it.' });
    const [reply] = await eventually(() => {
      expect(sandbox.forum.replies).toHaveLength(1);
      return sandbox.forum.replies;
    });
    expect(reply).toMatchObject({
      inReplyTo: posted.json.id,
      text: 'Sorry Jane, I am on it.',
      agent: { id: AGENT, name: 'sam' },
      verified: true,
    });
  });

  it('Waiting on customer: offered after the answer; pressed, the card shows the wait instead of deadlines', async () => {
    const posted = await post('/api/customer', { name: 'Wendy', text: 'Where is my refund?' });
    const caseId = posted.json.caseId as number;
    const card = await waitForCard('Where is my refund?');
    await claim(card);
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Refunded today, Wendy.' });
    await eventually(() => expect(JSON.stringify(cardFor(caseId)?.blocks)).toContain('case_waiting'));
    const pressed = await post('/api/action', {
      userId: AGENT,
      messageTs: card.ts,
      element: {
        type: 'button',
        action_id: 'case_waiting',
        block_id: `case_actions:${caseId}`,
        value: String(caseId),
      },
    });
    expect(pressed.json.status).toBe(200);
    await eventually(() => {
      const blocks = JSON.stringify(cardFor(caseId)?.blocks);
      expect(blocks).toContain('Waiting on the customer since');
      expect(blocks).toContain('case_not_waiting');
    });
    await eventually(() => {
      const note = sandbox.workspace.messages.find(
        (m) => m.threadTs === card.ts && m.text.includes('marked this case as waiting on the customer'),
      );
      expect(note?.text).toContain('carebot resolves the case');
    });
  });

  it('opens the escalate modal for the user who clicked, and submits it', async () => {
    const posted = await post('/api/customer', { name: 'Tom', text: 'The app logs me out at checkout' });
    const caseId = posted.json.caseId as number;
    const card = await eventually(() => {
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
    const view = await eventually(() => {
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
    await eventually(() =>
      expect(sandbox.workspace.messages.some((m) => m.threadTs === card.ts && m.text.includes('PR'))).toBe(
        true,
      ),
    );
  });

  it('answers /care-stats with an ephemeral for the manager only', async () => {
    await post('/api/message', { userId: 'U0MANAGER', text: '/care-stats' });
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) => m.ephemeralFor === 'U0MANAGER' && m.text.includes('Care stats'),
        ),
      ).toBe(true),
    );
  });

  it('registers the X and Facebook webhooks as the platforms check them, and polls X signed', async () => {
    expect(sandbox.x.webhookVerified).toBe(true);
    expect(sandbox.facebook.webhookVerified).toBe(true);
    // carebot's mentions poller signs its query string too; the sandbox X checks every signature.
    await eventually(() =>
      expect(sandbox.x.calls).toContainEqual({
        method: 'GET',
        path: `/2/users/${sandbox.x.account.userId}/mentions`,
        status: 200,
      }),
    );
    expect(sandbox.workspace.messages.filter((m) => m.text.includes('is paused'))).toEqual([]);
  });

  it('X: a mention arrives by the signed webhook; answers go out by POST /2/tweets under the right post', async () => {
    const posted = await post('/api/customer', {
      platform: 'x',
      name: 'Dana Reach',
      handle: 'danareach',
      followers: 120_000,
      text: 'My refund for order 5120 is three weeks late',
    });
    expect(posted.json).toMatchObject({ platform: 'x', kind: 'customer', status: 'delivered to carebot' });
    const tweetId = posted.json.id as string;
    const card = await waitForCard('My refund for order 5120 is three weeks late');
    // The follower count came in the webhook's user object and raised the priority.
    expect(JSON.stringify(card.blocks)).toContain('P1');
    await claim(card);
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Hi Dana, sorry. Checking now.' });
    const answer = await eventually(() => {
      const found = sandbox.x.items().find((i) => i.text === 'Hi Dana, sorry. Checking now.');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(answer).toMatchObject({ kind: 'brand', parentId: tweetId, conversationId: tweetId });

    // The customer answers the brand's post; carebot puts it in the same case, and the next answer
    // goes under the follow-up, not under the first post.
    const followUp = await post('/api/customer', {
      platform: 'x',
      name: 'Dana Reach',
      handle: 'danareach',
      text: 'Thanks, the bank says nothing arrived',
      conversationId: tweetId,
    });
    expect(followUp.json).toMatchObject({ parentId: answer.id, conversationId: tweetId });
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) => m.threadTs === card.ts && m.text.includes('the bank says nothing arrived'),
        ),
      ).toBe(true),
    );
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Escalated to payments, Dana.' });
    const second = await eventually(() => {
      const found = sandbox.x.items().find((i) => i.text === 'Escalated to payments, Dana.');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(second.parentId).toBe(followUp.json.id);
    // Moved to DM, the next answer goes as a direct message to the customer, not as a post.
    await post('/api/action', {
      userId: AGENT,
      messageTs: card.ts,
      element: {
        type: 'button',
        action_id: 'case_dm',
        block_id: `case_actions:${caseIdOf(card)}`,
        value: String(caseIdOf(card)),
      },
    });
    await eventually(() =>
      expect(JSON.stringify(cardWith('My refund for order 5120')?.blocks)).toContain('Replies go by DM'),
    );
    await post('/api/message', {
      userId: AGENT,
      threadTs: card.ts,
      text: 'Could you DM me the card digits?',
    });
    const dm = await eventually(() => {
      const found = sandbox.x.items().find((i) => i.text === 'Could you DM me the card digits?');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(dm).toMatchObject({ kind: 'private', conversationId: tweetId });
    // X delivers the brand's own posts to the webhook too: they never become cases.
    expect(
      sandbox.workspace.messages.filter((m) => !m.threadTs && m.text.includes('Escalated to payments')),
    ).toEqual([]);
  });

  it('Mastodon: mentions are polled; answers go out as statuses with the @acct, a direct mention directly', async () => {
    const posted = await post('/api/customer', {
      platform: 'mastodon',
      name: 'Mo Toot',
      handle: 'motoot',
      text: 'The app eats my drafts since the update',
    });
    expect(posted.json).toMatchObject({ platform: 'mastodon', kind: 'customer' });
    const statusId = posted.json.id as string;
    const card = await waitForCard('The app eats my drafts since the update');
    expect(JSON.stringify(card.blocks)).not.toContain('Replies go by DM');
    await claim(card);
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Sorry Mo, which phone?' });
    const answer = await eventually(() => {
      const found = sandbox.mastodon.items().find((i) => i.text.endsWith('Sorry Mo, which phone?'));
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(answer).toMatchObject({
      kind: 'brand',
      parentId: statusId,
      text: '@motoot Sorry Mo, which phone?',
    });

    // The customer answers the brand's status: it joins the case's thread.
    const followUp = await post('/api/customer', {
      platform: 'mastodon',
      name: 'Mo Toot',
      handle: 'motoot',
      text: 'A Pixel 7',
      conversationId: statusId,
    });
    expect(followUp.json).toMatchObject({ parentId: answer.id, conversationId: statusId });
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some((m) => m.threadTs === card.ts && m.text.includes('A Pixel 7')),
      ).toBe(true),
    );

    const direct = await post('/api/customer', {
      platform: 'mastodon',
      name: 'Mo Toot',
      handle: 'motoot',
      text: 'Privately: my account email is mo@example.com',
      direct: true,
    });
    const dmCard = await waitForCard('my account email is');
    expect(JSON.stringify(dmCard.blocks)).toContain('Replies go by DM');
    await claim(dmCard);
    await post('/api/message', { userId: AGENT, threadTs: dmCard.ts, text: 'Thanks, found it.' });
    const dm = await eventually(() => {
      const found = sandbox.mastodon.items().find((i) => i.text.endsWith('Thanks, found it.'));
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(dm).toMatchObject({ kind: 'private', parentId: direct.json.id });
  });

  it('Bluesky: a mention is polled in; the answer is posted in the thread under the customer, once', async () => {
    const posted = await post('/api/customer', {
      platform: 'bluesky',
      name: 'Robin Sky',
      followers: 800,
      text: 'The app logs me out every hour since the update',
    });
    expect(posted.json).toMatchObject({ platform: 'bluesky', kind: 'customer' });
    const uri = posted.json.id as string;
    expect(uri).toMatch(/^at:\/\/did:plc:[a-z2-7]{24}\/app\.bsky\.feed\.post\/[2-7a-z]{13}$/);
    const card = await waitForCard('logs me out every hour');
    await claim(card);
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Sorry Robin, a fix ships today.' });
    const answer = await eventually(() => {
      const found = sandbox.bluesky.items().find((i) => i.text === 'Sorry Robin, a fix ships today.');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(answer).toMatchObject({ kind: 'brand', parentId: uri, conversationId: uri });
    // The brand's own reply comes back in no notification and opens no case.
    await new Promise((r) => setTimeout(r, 2500));
    expect(sandbox.bluesky.items().filter((i) => i.text === 'Sorry Robin, a fix ships today.')).toHaveLength(
      1,
    );
    expect(
      sandbox.workspace.messages.filter((m) => !m.threadTs && m.text.includes('a fix ships today')),
    ).toEqual([]);
    expect(sandbox.workspace.messages.filter((m) => m.text.includes('is paused'))).toEqual([]);
  });

  it('Facebook: a visitor post with PR words escalates; answers comment under the post, then under the thread', async () => {
    const posted = await post('/api/customer', {
      platform: 'facebook',
      name: 'Sam Visitor',
      text: 'Your heater is dangerous, it sparked twice',
    });
    const postId = posted.json.id as string;
    expect(postId).toMatch(new RegExp(`^${sandbox.facebook.page.pageId}_\\d+$`));
    const card = await waitForCard('Your heater is dangerous, it sparked twice');
    expect(JSON.stringify(card.blocks)).toContain('P1');
    expect(JSON.stringify(card.blocks)).toContain('Escalated to PR');
    await claim(card);
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Please stop using it, Sam.' });
    const answer = await eventually(() => {
      const found = sandbox.facebook.items().find((i) => i.text === 'Please stop using it, Sam.');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(answer).toMatchObject({ kind: 'brand', parentId: postId, conversationId: postId });

    // The customer replies to the Page's comment: a second-level comment, which takes no replies,
    // so carebot's adapter is refused (code 100) and answers under the thread's top comment.
    const followUp = await post('/api/customer', {
      platform: 'facebook',
      name: 'Sam Visitor',
      text: 'Done. Can I get a refund?',
      conversationId: postId,
    });
    expect(followUp.json.parentId).toBe(answer.id);
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) => m.threadTs === card.ts && m.text.includes('Can I get a refund?'),
        ),
      ).toBe(true),
    );
    await post('/api/message', {
      userId: AGENT,
      threadTs: card.ts,
      text: 'Yes, a full refund is on its way.',
    });
    const second = await eventually(() => {
      const found = sandbox.facebook.items().find((i) => i.text === 'Yes, a full refund is on its way.');
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    });
    expect(second.parentId).toBe(answer.id);
    expect(sandbox.facebook.calls).toContainEqual({
      method: 'POST',
      path: `/v21.0/${followUp.json.id as string}/comments`,
      status: 400,
    });
  });

  it('App Store: a one-star review is polled with a signed key; the answer becomes its response, a second replaces it', async () => {
    const posted = await post('/api/customer', {
      platform: 'app_store',
      name: 'Rita R.',
      stars: 1,
      text: 'Sync lost my lists\nSince 4.2 the app forgets everything overnight.',
    });
    expect(posted.json).toMatchObject({ platform: 'app_store', kind: 'customer', stars: 1 });
    const card = await waitForCard('Since 4.2 the app forgets everything overnight.');
    expect(JSON.stringify(card.blocks)).toContain('★☆☆☆☆ 1 of 5');
    expect(JSON.stringify(card.blocks)).toContain('1-star review');
    await claim(card);
    await post('/api/message', {
      userId: AGENT,
      threadTs: card.ts,
      text: 'Sorry, Rita: 4.2.1 brings them back.',
    });
    await eventually(() =>
      expect(sandbox.appStore.items()).toContainEqual(
        expect.objectContaining({
          kind: 'brand',
          parentId: posted.json.id,
          text: expect.stringContaining('4.2.1 brings them back'),
        }),
      ),
    );
    await post('/api/message', { userId: AGENT, threadTs: card.ts, text: 'Update: 4.2.2 is out.' });
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some(
          (m) =>
            m.threadTs === card.ts &&
            JSON.stringify(m.blocks ?? m.text).includes('Replaced the earlier response'),
        ),
      ).toBe(true),
    );
    expect(sandbox.appStore.items().filter((i) => i.kind === 'brand')).toHaveLength(1);
    expect(sandbox.workspace.messages.filter((m) => m.text.includes('is paused'))).toEqual([]);
  });

  it('listens on loopback only: the page, carebot, the fake Slack and the fake platforms', () => {
    const addresses = sandbox.addresses();
    expect(Object.keys(addresses).sort()).toEqual([
      'appStore',
      'bluesky',
      'carebot',
      'facebook',
      'googlePlay',
      'mastodon',
      'page',
      'slack',
      'x',
    ]);
    for (const [server, { address }] of Object.entries(addresses))
      expect({ server, address }).toEqual({ server, address: '127.0.0.1' });
  });

  /** A raw request, so Origin and Host can be set as a browser on another page would send them. */
  const rawPost = (path: string, headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request(`${sandbox.url}${path}`, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', fail);
      req.end(body);
    });
  const complaint = (text: string) => JSON.stringify({ name: 'Mallory', text });
  const postedOnForum = (text: string) => sandbox.forum.posts.some((p) => p.text === text);

  it('takes API posts only from its own page: another origin gets 403 and nothing happens', async () => {
    const port = Number(new URL(sandbox.url).port);
    const json = { 'content-type': 'application/json' };
    for (const origin of [
      'https://evil.example',
      `http://evil.example:${port}`,
      'null',
      `http://127.0.0.1:${port + 1}`,
    ]) {
      const refused = await rawPost('/api/customer', { ...json, origin }, complaint(`from ${origin}`));
      expect({ origin, status: refused.status }).toEqual({ origin, status: 403 });
      expect(postedOnForum(`from ${origin}`)).toBe(false);
    }
    // DNS rebinding: a hostile name resolved to 127.0.0.1 is "same origin" to the browser, not to us.
    const rebound = await rawPost(
      '/api/customer',
      { ...json, origin: `http://evil.example:${port}`, host: `evil.example:${port}` },
      complaint('rebound'),
    );
    expect(rebound.status).toBe(421);
    expect(postedOnForum('rebound')).toBe(false);
    // The page itself, by either loopback name, and tools that send no Origin (npm run demo) get in.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const own = await rawPost(
        '/api/customer',
        { ...json, origin: `http://${host}`, host },
        complaint(`from the page at ${host}`),
      );
      expect(own.status).toBe(200);
      expect(postedOnForum(`from the page at ${host}`)).toBe(true);
    }
    const tool = await rawPost('/api/customer', json, complaint('from a script'));
    expect(tool.status).toBe(200);
  });

  it('answers only to loopback names, so a DNS-rebound page cannot read its state or events', async () => {
    const port = Number(new URL(sandbox.url).port);
    const get = (path: string, host: string) =>
      new Promise<number>((done, fail) => {
        const req = request(`${sandbox.url}${path}`, { headers: { host } }, (res) => {
          res.destroy();
          done(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end();
      });
    for (const path of ['/api/state', '/events', '/'])
      expect({ path, status: await get(path, `evil.example:${port}`) }).toEqual({ path, status: 421 });
    expect(await get('/api/state', `localhost:${port}`)).toBe(200);
    expect(await get('/api/state', `127.0.0.1:${port}`)).toBe(200);
  });

  it('answers an API post over 1 MiB with 413 and hangs up', async () => {
    const answer = await new Promise<{ status: number; connection: string | undefined }>((done, fail) => {
      const req = request(
        `${sandbox.url}/api/customer`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 2 << 20 } },
        (res) => {
          res.resume();
          done({ status: res.statusCode ?? 0, connection: res.headers.connection });
        },
      );
      req.on('error', fail);
      req.write(Buffer.alloc(2 << 20, 0x20));
      req.end();
    });
    expect(answer).toEqual({ status: 413, connection: 'close' });
  });

  it('takes API posts only as application/json: a form or text/plain post gets 415', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const refused = await rawPost('/api/customer', { 'content-type': type }, complaint(`as ${type}`));
      expect({ type, status: refused.status }).toEqual({ type, status: 415 });
      expect(postedOnForum(`as ${type}`)).toBe(false);
    }
    const untyped = await fetch(`${sandbox.url}/api/demo`, {
      method: 'POST',
      body: new Uint8Array([123, 125]),
    });
    expect(untyped.status).toBe(415);
    const withCharset = await rawPost(
      '/api/customer',
      { 'content-type': 'application/json; charset=utf-8' },
      complaint('with a charset'),
    );
    expect(withCharset.status).toBe(200);
  });

  it('serves the link rendering the page imports, as JavaScript', async () => {
    const page = await (await fetch(`${sandbox.url}/`)).text();
    expect(page).toContain("from '/page-links.js'");
    const links = await fetch(`${sandbox.url}/page-links.js`);
    expect(links.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await links.text()).toContain('export function safeHref');
  });

  it('the fake platform APIs refuse requests without valid credentials', async () => {
    const unsigned = await fetch(`${sandbox.x.url}/2/tweets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'not from carebot' }),
    });
    expect(unsigned.status).toBe(401);
    const wrongToken = await fetch(
      `${sandbox.facebook.url}/v21.0/${sandbox.facebook.page.pageId}_1/comments`,
      { method: 'POST', headers: { authorization: 'Bearer EAAwrong' }, body: '{}' },
    );
    expect(((await wrongToken.json()) as { error: { code: number } }).error.code).toBe(190);
    expect(sandbox.x.items().some((i) => i.text === 'not from carebot')).toBe(false);
  });

  it('plays the demo morning on X, Facebook and the forum: high reach and PR words raise the priority', async () => {
    await post('/api/demo', {});
    const delivered = () =>
      [...sandbox.x.items(), ...sandbox.facebook.items(), ...sandbox.forum.items()].filter(
        (i) =>
          i.kind === 'customer' && (i.status === 'delivered to carebot' || i.status?.startsWith('case #')),
      );
    const before = delivered().length;
    await eventually(() => expect(delivered().length).toBeGreaterThanOrEqual(before + 6));
    const tom = await waitForCard('Third time this month the app logs me out');
    const priya = await waitForCard('The charger you sold me melted');
    expect(tom.text).toContain('on X');
    expect(priya.text).toContain('on Facebook');
    await eventually(() => {
      expect(JSON.stringify(cardWith('Third time this month the app logs me out')?.blocks)).toContain('P1');
      expect(JSON.stringify(cardWith('The charger you sold me melted')?.blocks)).toContain('Escalated to PR');
    });
    // Tom's follow-up on X joined his case's thread.
    await eventually(() =>
      expect(
        sandbox.workspace.messages.some((m) => m.threadTs === tom.ts && m.text.includes('on Android 15')),
      ).toBe(true),
    );
  });
});
