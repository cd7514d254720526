import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fakeFacebookPage, pageDelivery, signedDelivery, startFakeGraph } from '../../emulators/graph/api.js';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { seconds } from '../../src/care/clock.js';
import { cases, messages, replies } from '../../src/db/schema.js';
import { deliver, SIGNING_SECRET, sync, type TestCarebot, tsOf, useCarebot } from '../support/carebot.js';

const page = fakeFacebookPage({ channel: 'C0FBCARE01', instagramAccountId: undefined });
const graph = await startFakeGraph({ pages: [page] });
const dir = mkdtempSync(join(tmpdir(), 'carebot-fb-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'sources:',
    '  facebook:',
    '    pages:',
    `      - { name: brand, page_id: "${page.pageId}", page_token: ${page.pageToken}, app_secret: ${page.appSecret}, verify_token: ${page.verifyToken}, channel: ${page.channel} }`,
  ].join('\n'),
);

const AGENT = 'U0AGENT001';
const POST_ID = `${page.pageId}_9007199254740993001`;
const COMMENT_ID = '9007199254740993001_9007199254740993111';
const jane = { id: '6100000000000042', name: 'Jane Doe' };

function feedChange(over: Record<string, unknown> = {}) {
  return {
    from: jane,
    post: { id: POST_ID, permalink_url: 'https://www.facebook.com/brand/posts/9007199254740993001' },
    message: 'My order never arrived',
    post_id: POST_ID,
    comment_id: COMMENT_ID,
    parent_id: POST_ID,
    created_time: 1_795_428_000,
    item: 'comment',
    verb: 'add',
    ...over,
  };
}

async function deliverToCarebot(t: TestCarebot, feed: unknown[]) {
  const { body, headers } = signedDelivery(page.appSecret, pageDelivery(page.pageId, { feed }));
  return fetch(`${t.url}/sources/facebook/webhook`, { method: 'POST', headers, body });
}

/** The agent claims the one case's card; returns the card's thread. */
async function claimTheCard(t: TestCarebot): Promise<string> {
  const threadTs = tsOf(t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts));
  const [row] = await t.db.db.select().from(cases);
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(row?.id),
      userId: AGENT,
      channelId: 'C0FBCARE01',
      messageTs: threadTs,
    }),
  );
  await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(AGENT));
  return threadTs;
}

describe('Facebook through carebot', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath, GRAPH_API_URL: graph.url });
  afterAll(async () => {
    await graph.close();
  });

  it('answers the verification handshake on the contract route', async () => {
    const t = carebot();
    const ok = await fetch(
      `${t.url}/sources/facebook/webhook?hub.mode=subscribe&hub.verify_token=${page.verifyToken}&hub.challenge=12345`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('12345');
    const wrong = await fetch(
      `${t.url}/sources/facebook/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`,
    );
    expect(wrong.status).toBe(403);
  });

  it('turns a Page comment into a card, sends the reply to that comment, and notes an edit', async () => {
    const t = carebot();
    // What Graph holds, so the reply has a comment to land on.
    graph.addPost({
      pageId: page.pageId,
      id: POST_ID,
      from: { id: page.pageId, name: 'Brand' },
      message: 'New arrivals!',
    });
    graph.addComment({ postId: POST_ID, id: COMMENT_ID, from: jane, message: 'My order never arrived' });
    expect((await deliverToCarebot(t, [feedChange()])).status).toBe(200);
    await sync(t);
    const card = t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts);
    expect(card?.params.channel).toBe('C0FBCARE01');
    expect(JSON.stringify(card?.params.blocks)).toContain('My order never arrived');
    const threadTs = tsOf(card);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_claim',
        value: '1',
        userId: AGENT,
        channelId: 'C0FBCARE01',
        messageTs: threadTs,
      }),
    );
    await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(AGENT));
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: 'C0FBCARE01',
      threadTs,
      user: AGENT,
      text: 'Hi Jane, sorry! Could you send us a private message with your order number?',
    });
    await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(0));
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(graph.sent.at(-1)).toMatchObject({
      kind: 'comment',
      target: COMMENT_ID,
      text: 'Hi Jane, sorry! Could you send us a private message with your order number?',
    });

    await deliverToCarebot(t, [
      feedChange({ verb: 'edited', message: 'My order never arrived and nobody answers' }),
    ]);
    await sync(t);
    const [stored] = await t.db.db.select().from(messages).where(eq(messages.kind, 'inbound'));
    expect(stored?.text).toBe('My order never arrived and nobody answers');
    const notes = t.slack.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === threadTs);
    expect(notes.map((n) => String(n.params.text))).toContainEqual(
      expect.stringContaining('The customer edited their message'),
    );
  });

  it('holds a Messenger reply longer than Messenger allows, and sends nothing', async () => {
    const t = carebot();
    const psid = '7200000000000077';
    const messaging = [
      {
        sender: { id: psid },
        recipient: { id: page.pageId },
        timestamp: Date.parse('2026-11-23T09:58:00Z'),
        message: { mid: 'm_long_1', text: 'Where is my refund?' },
      },
    ];
    const { body, headers } = signedDelivery(page.appSecret, pageDelivery(page.pageId, { messaging }));
    expect((await fetch(`${t.url}/sources/facebook/webhook`, { method: 'POST', headers, body })).status).toBe(
      200,
    );
    await sync(t);
    const threadTs = await claimTheCard(t);
    const sentBefore = graph.sent.length;
    // 2,100 characters: a fine Facebook comment, too long for Messenger (2,000).
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: 'C0FBCARE01',
      threadTs,
      user: AGENT,
      text: `Hi, ${'we are checking your refund. '.repeat(70)}`,
    });
    await vi.waitFor(() =>
      expect(JSON.stringify(ephemeralsFor(t.slack, AGENT))).toContain('Too long for Messenger'),
    );
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(graph.sent.length).toBe(sentBefore);
  });

  it('tells the care channel once when the Page token expired, not only the agent', async () => {
    const t = carebot();
    graph.addPost({
      pageId: page.pageId,
      id: POST_ID,
      from: { id: page.pageId, name: 'Brand' },
      message: 'Hi',
    });
    graph.addComment({ postId: POST_ID, id: COMMENT_ID, from: jane, message: 'My order never arrived' });
    expect((await deliverToCarebot(t, [feedChange()])).status).toBe(200);
    await sync(t);
    const threadTs = await claimTheCard(t);
    const expired = {
      error: { code: 190, error_subcode: 463, type: 'OAuthException', message: 'Session has expired' },
    };
    for (const text of ['Sorry Jane, checking now.', 'Jane, the courier has it.']) {
      graph.failNext(`/${COMMENT_ID}/comments`, expired);
      await postThreadMessage(t.url, SIGNING_SECRET, { channel: 'C0FBCARE01', threadTs, user: AGENT, text });
      await vi.waitFor(async () => expect((await t.db.db.select().from(replies)).at(-1)?.text).toBe(text));
      t.clock.advance(seconds(11));
      await deliver(t);
      await sync(t);
    }
    const failed = await t.db.db.select().from(replies);
    expect(failed.map((r) => r.status)).toEqual(['failed', 'failed']);
    const notices = t.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.ok && !c.params.thread_ts && String(c.params.text).includes('Replies on'));
    expect(notices).toHaveLength(1);
    expect(notices[0]?.params.channel).toBe('C0FBCARE01');
    expect(String(notices[0]?.params.text)).toContain('has expired');
    expect(String(notices[0]?.params.text)).not.toContain(page.pageToken);
  });
});
