import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startFakeFeed } from '../../emulators/feed/server.js';
import { eventCallbackEnvelope, postSlackEvent } from '../../emulators/slack/signing.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { minutes } from '../../src/care/clock.js';
import { createLogger } from '../../src/logger.js';
import { rssPoller } from '../../src/sources/rss/poller.js';
import {
  blocksOf,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  useCarebot,
} from '../support/carebot.js';

// The fake Slack refuses what Slack refuses (invalid_blocks, msg_too_long, invalid_arguments for
// views), so every `ok` below is a message Slack would have shown.

/** 512 characters of `<!everyone>`: the most the webhook takes, and 791 once escaped. */
const EVERYONE_NAME = '<!everyone>'.repeat(47).slice(0, 512);
/** A customer text whose quote fills the card's section on its own. */
const LONG_TEXT = `My order never arrived & nobody answers <!channel>. ${'Still waiting. '.repeat(300)}`;

const cardsOf = (t: TestCarebot) => t.slack.callsTo('chat.postMessage').filter((c) => !c.params.thread_ts);
const threadPostsOf = (t: TestCarebot) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.params.thread_ts);
const sectionText = (call: Parameters<typeof blocksOf>[0]) =>
  blocksOf(call).find((b) => b.type === 'section')?.text?.text ?? '';

describe('every message fits Block Kit, whatever the customer wrote', () => {
  const carebot = useCarebot();

  it('posts the card of an author named 512 characters of <!everyone>, then its follow-up', async () => {
    const t = carebot();
    const author = { id: 'u-everyone', name: EVERYONE_NAME, handle: EVERYONE_NAME };
    const res = await postWebhook(t, complaint({ conversationId: 'c-1', author, text: LONG_TEXT }));
    expect(res.status).toBe(202);
    await sync(t);
    const [card, ...more] = cardsOf(t);
    expect(more).toEqual([]);
    expect(card?.ok, JSON.stringify(card?.response)).toBe(true);
    const section = sectionText(card);
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toContain('&lt;!everyone&gt;');
    expect(`${card?.params.text} ${JSON.stringify(card?.params.blocks)}`).not.toMatch(/<!(everyone|channel)/);
    // The customer's words are still there, after the (cut) name.
    expect(section).toContain('My order never arrived &amp; nobody answers &lt;!channel&gt;.');
    expect(section).toContain('…');

    // The next message of the case is not held back behind the card.
    await postWebhook(t, complaint({ conversationId: 'c-1', author, text: 'Anyone there?' }));
    await sync(t);
    const [follow] = threadPostsOf(t);
    expect(follow?.ok, JSON.stringify(follow?.response)).toBe(true);
    expect(follow?.params.thread_ts).toBe(card?.response?.ts);
    expect(sectionText(follow)).toContain('Anyone there?');
  });

  it('posts the card of an author whose profile URL is 3 KB, without linking it', async () => {
    const t = carebot();
    const url = `https://forum.example/u/${'%3C!everyone%3E'.repeat(210)}`;
    expect(url.length).toBeGreaterThan(3000);
    const author = { id: 'u-long', name: 'Jane Doe', url };
    const res = await postWebhook(t, complaint({ author, text: LONG_TEXT, url }));
    expect(res.status).toBe(202);
    await sync(t);
    const [card] = cardsOf(t);
    expect(card?.ok, JSON.stringify(card?.response)).toBe(true);
    const section = sectionText(card);
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section.startsWith('*Jane Doe* on forum:\n>My order never arrived')).toBe(true);
    expect(JSON.stringify(card?.params.blocks)).not.toContain('forum.example/u/');
  });

  it('posts the card of an RSS item whose author name is 10,000 characters', async () => {
    const t = carebot();
    const site = await startFakeFeed();
    try {
      const feed = {
        name: 'forum',
        url: site.url('/feed.rss'),
        keywords: [],
        channel: 'C0FORUM001',
        allowPrivateNetwork: true,
      };
      const poller = rssPoller(feed, { everyMs: minutes(5) });
      const logger = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
      const poll = (cursor: string | undefined) =>
        poller.poll({ cursor, clock: t.clock, logger, record: (m) => recordInbound(t.db.db, t.clock, m) });
      // The first poll only notes where the feed is; what is published after it becomes a case.
      site.setFeed('/feed.rss', { type: 'rss', items: [] });
      const first = await poll(undefined);
      expect(first.kind).toBe('ok');
      t.clock.advance(minutes(5));
      site.setFeed('/feed.rss', {
        type: 'rss',
        items: [
          {
            id: 'p-1',
            title: 'Broken charger',
            link: 'https://forum.example/t/1',
            content: '<p>It stopped working.</p>',
            author: '&<Mallory> '.repeat(1000),
            published: t.clock.now(),
          },
        ],
      });
      const outcome = await poll(first.kind === 'ok' ? first.cursor : undefined);
      expect(outcome).toMatchObject({ kind: 'ok', stored: 1 });
    } finally {
      await site.close();
    }
    await sync(t);
    const [card] = cardsOf(t);
    expect(card?.ok, JSON.stringify(card?.response)).toBe(true);
    const section = sectionText(card);
    expect(section).toMatch(/^\*&amp;&lt;Mallory&gt; /);
    expect(section).toContain('>Broken charger');
    expect(section.length).toBeLessThanOrEqual(3000);
  });

  it("publishes every agent's App Home when one customer's name is very long", async () => {
    const t = carebot();
    // Escaped, the name alone is 2,560 characters, and the start of the text 700 more.
    const author = { id: 'u1', name: '&'.repeat(512) };
    await postWebhook(t, complaint({ conversationId: 'c-1', author, text: '&'.repeat(200) }));
    await postWebhook(t, complaint({ conversationId: 'c-2', text: 'Second complaint' }));
    await postSlackEvent(
      t.url,
      SIGNING_SECRET,
      eventCallbackEnvelope({
        type: 'app_home_opened',
        user: 'U0AGENT001',
        channel: 'D0HOME0001',
        tab: 'home',
      }),
    );
    const [published] = await t.slack.waitFor('views.publish');
    const view = JSON.stringify(published?.params.view);
    expect(view).toContain('Second complaint');
    expect(view).toContain('&amp;&amp;&amp;');
    expect(t.slack.callsTo('views.publish').every((c) => c.ok)).toBe(true);
  });

  it('posts a minimal card when Slack refuses the card anyway, and logs why with the case id', async () => {
    const t = carebot();
    t.slack.failNext('chat.postMessage', { error: 'invalid_blocks' });
    const res = await postWebhook(t, complaint({ conversationId: 'c-1' }));
    expect(res.status).toBe(202);
    await sync(t);
    const [refused, fallback, ...more] = cardsOf(t);
    expect(more).toEqual([]);
    expect(refused?.ok).toBe(false);
    expect(fallback?.ok).toBe(true);
    const blocks = blocksOf(fallback);
    expect(sectionText(fallback)).toContain('*Case #1* on *forum*');
    expect(JSON.stringify(blocks)).toContain('<https://forum.example/t/9#123|View original>');
    const buttons = blocks.find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => b.action_id)).toEqual(expect.arrayContaining(['case_claim', 'case_reply']));
    const logged = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ caseId: 1, reason: 'invalid_blocks', level: expect.anything() }),
    );

    // A thread message Slack refuses is replaced by a note, and the one after it still goes out.
    t.slack.failNext('chat.postMessage', { error: 'msg_too_long' });
    await postWebhook(t, complaint({ conversationId: 'c-1', text: 'second' }));
    await postWebhook(t, complaint({ conversationId: 'c-1', text: 'third' }));
    await sync(t);
    const thread = threadPostsOf(t);
    expect(thread.map((c) => c.ok)).toEqual([false, true, true]);
    expect(sectionText(thread[1])).toContain('Slack refused');
    expect(sectionText(thread[2])).toContain('third');
  });
});
