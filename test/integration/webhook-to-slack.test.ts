import { eq, isNotNull, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { minutes } from '../../src/care/clock.js';
import { cases, messages, slackOutbox, slackThreads } from '../../src/db/schema.js';
import {
  BOT_TOKEN,
  blocksOf,
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  tsOf,
  useCarebot,
  WEBHOOK_SECRET,
} from '../support/carebot.js';
import { rawConnect, trickle, within } from '../support/raw-http.js';

const count = async (t: ReturnType<ReturnType<typeof useCarebot>>, table: typeof cases | typeof messages) => {
  const [row] = await t.db.db.select({ n: sql<number>`count(*)::int` }).from(table);
  return row?.n ?? 0;
};

describe('generic webhook → Slack thread', () => {
  const carebot = useCarebot();

  it('posts a new complaint as a card with the author, text, link and both buttons', async () => {
    const t = carebot();
    const res = await postWebhook(t, complaint({ id: 'msg-123', conversationId: 't-9' }));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ caseId: 1, duplicate: false });
    await sync(t);
    const [post] = t.slack.callsTo('chat.postMessage');
    expect(post?.params.channel).toBe(CARE_CHANNEL);
    const blocks = blocksOf(post);
    const section = blocks.find((b) => b.type === 'section')?.text?.text ?? '';
    expect(section).toContain('<https://forum.example/u/jane|Jane Doe> (@jane) on forum');
    expect(section).toContain('>My order never arrived');
    const context = JSON.stringify(blocks.find((b) => b.type === 'context'));
    expect(context).toContain('Case #1');
    expect(context).toContain('Unclaimed');
    expect(context).toContain('<https://forum.example/t/9#123|View original>');
    const buttons = blocks.find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      ['case_claim', '1'],
      ['case_reply', '1'],
      ['case_escalate', '1'],
      ['case_resolve', '1'],
      ['case_priority', undefined],
    ]);
  });

  it('treats the same webhook twice as one case and one post', async () => {
    const t = carebot();
    const body = complaint({ id: 'msg-dup' });
    expect((await postWebhook(t, body)).status).toBe(202);
    const again = await postWebhook(t, body);
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ caseId: 1, duplicate: true });
    await sync(t);
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(await count(t, cases)).toBe(1);
    expect(await count(t, messages)).toBe(1);
  });

  it('posts a follow-up in the same conversation as a reply in the case thread', async () => {
    const t = carebot();
    await postWebhook(t, complaint({ id: 'a', conversationId: 't-9' }));
    await sync(t);
    const card = { ts: tsOf(t.slack.callsTo('chat.postMessage')[0]) };
    const follow = await postWebhook(
      t,
      complaint({ id: 'b', conversationId: 't-9', text: 'Still nothing!' }),
    );
    expect(follow.json).toEqual({ caseId: 1, duplicate: false });
    await sync(t);
    const posts = t.slack.callsTo('chat.postMessage');
    expect(posts).toHaveLength(2);
    expect(posts[1]?.params.thread_ts).toBe(card.ts);
    expect(JSON.stringify(posts[1]?.params.blocks)).toContain('Still nothing!');
    // A different conversation is a different case with its own card.
    const other = await postWebhook(t, complaint({ id: 'c', conversationId: 't-10' }));
    expect(other.json.caseId).toBe(2);
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage')[2]?.params.thread_ts).toBeUndefined();
  });

  it('escapes customer text so it can neither mention anyone nor fake a link', async () => {
    const t = carebot();
    const text = 'Hey <!channel> and <@U123> & <!subteam^S1> > see <https://evil.example|your bank>';
    await postWebhook(t, complaint({ text, author: { id: 'u9', name: '<!here> Mallory' } }));
    await sync(t);
    const post = t.slack.callsTo('chat.postMessage')[0];
    const everything = `${post?.params.text} ${JSON.stringify(post?.params.blocks)}`;
    for (const raw of ['<!channel>', '<@U123>', '<!subteam^S1>', '<!here>', '<https://evil.example']) {
      expect(everything).not.toContain(raw);
    }
    expect(JSON.stringify(post?.params.blocks)).toContain(
      'Hey &lt;!channel&gt; and &lt;@U123&gt; &amp; &lt;!subteam^S1&gt; &gt; see &lt;https://evil.example|your bank&gt;',
    );
    expect(post?.params.link_names).toBeUndefined();
  });

  it('refuses a bad signature with 401 and stores nothing', async () => {
    const t = carebot();
    const wrong = `whsec_${Buffer.from('some-other-secret-entirely-000001').toString('base64')}`;
    const res = await postWebhook(t, complaint(), { secret: wrong });
    expect(res.status).toBe(401);
    const unsigned = await fetch(`${t.url}/sources/webhook`, {
      method: 'POST',
      body: JSON.stringify(complaint()),
    });
    expect(unsigned.status).toBe(401);
    expect(await count(t, cases)).toBe(0);
    expect(await count(t, messages)).toBe(0);
    expect(t.logs.join('')).not.toContain(WEBHOOK_SECRET);
  });

  it('keeps tokens and secrets out of the log, even at debug level', async () => {
    const t = carebot();
    await postWebhook(t, complaint({ id: 'log-1' }));
    await sync(t);
    const log = t.logs.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const secret of [BOT_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET]) expect(log).not.toContain(secret);
  });

  it('refuses an invalid body with 400 naming the fields, and stores nothing', async () => {
    const t = carebot();
    const res = await postWebhook(t, {
      source: 'forum',
      id: 'x1',
      author: {},
      text: '',
      createdAt: 'yesterday',
    });
    expect(res.status).toBe(400);
    const fields = (res.json.fields as Array<{ path: string }>).map((f) => f.path).sort();
    expect(fields).toEqual(['author.id', 'createdAt', 'text']);
    expect(String(res.json.error)).toContain('author.id');
    const nul = await postWebhook(t, complaint({ text: 'broken\u0000text' }));
    expect(nul.status).toBe(400);
    expect(String(nul.json.error)).toContain('text');
    const notJson = await postWebhook(t, undefined, { raw: '{"source": ' });
    expect(notJson.status).toBe(400);
    expect(await count(t, cases)).toBe(0);
  });

  it('keeps a long, entity-heavy complaint and a busy card within Block Kit limits', async () => {
    const t = carebot();
    await postWebhook(t, complaint({ id: 'big-1', conversationId: 'big', text: '&<>'.repeat(5000) }));
    await postWebhook(t, complaint({ id: 'big-2', conversationId: 'big', text: '&'.repeat(10_000) }));
    await sync(t);
    for (const call of t.slack.callsTo('chat.postMessage')) {
      for (const block of blocksOf(call)) {
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
        if (block.type === 'context') expect(block.elements?.length ?? 0).toBeLessThanOrEqual(10);
      }
    }
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const t = carebot();
    const res = await postWebhook(t, complaint({ text: 'x'.repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(await count(t, cases)).toBe(0);
  });

  it('hangs up after the 413 of an oversized upload instead of draining it', async () => {
    const t = carebot();
    const conn = await rawConnect(t.url);
    conn.write(
      'POST /sources/webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
        `content-length: ${64 * 1024 * 1024}\r\n\r\n{"text":"`,
    );
    const stop = trickle(conn, 20);
    const closed = await within(conn.closed, 3000, 'still open');
    stop();
    conn.destroy();
    expect(conn.received()).toMatch(/^HTTP\/1\.1 413/);
    expect(closed).not.toBe('still open');
  });

  it('keeps a case unposted while Slack is down and posts it once when Slack is back', async () => {
    const t = carebot();
    t.slack.setDown(true);
    expect((await postWebhook(t, complaint({ id: 'down-1' }))).status).toBe(202);
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage').length).toBeGreaterThan(0);
    expect(t.slack.callsTo('chat.postMessage').every((c) => !c.ok)).toBe(true);
    const [waiting] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    expect(waiting?.cardPostedVersion).toBe(0);
    expect(waiting?.slackLastError).toBe('HTTP 503');
    t.slack.setDown(false);
    // Still backing off: nothing is tried before the lease runs out.
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(0);
    t.clock.advance(minutes(1));
    await sync(t);
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(1);
  });

  it('adopts the card an interrupted attempt posted instead of posting it again', async () => {
    const t = carebot();
    await postWebhook(t, complaint({ id: 'crash-1' }));
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    // Imitate a process that died after Slack accepted the card but before recording it: the
    // thread row is missing and the case's lease was never released.
    await t.db.db.delete(slackThreads);
    await t.db.db
      .update(cases)
      .set({ cardPostedVersion: 0, slackLeaseUntil: new Date(t.clock.now().getTime() - 1000) })
      .where(eq(cases.id, 1));
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(t.slack.callsTo('conversations.history')).toHaveLength(1);
    const [thread] = await t.db.db.select().from(slackThreads);
    expect(thread?.threadTs).toBe(tsOf(t.slack.callsTo('chat.postMessage')[0]));
  });

  it('adopts a thread message an interrupted attempt posted instead of posting it again', async () => {
    const t = carebot();
    await postWebhook(t, complaint({ id: 'fu-1', conversationId: 'conv-fu' }));
    await sync(t);
    await postWebhook(t, complaint({ id: 'fu-2', conversationId: 'conv-fu', text: 'Still waiting' }));
    await sync(t);
    const posts = () => t.slack.callsTo('chat.postMessage').filter((c) => c.ok);
    expect(posts()).toHaveLength(2);
    const followUp = posts()[1];
    expect(followUp?.params.metadata).toMatchObject({ event_type: 'carebot_thread_message' });
    // Imitate a process that died after Slack accepted the follow-up but before recording it: the
    // outbox row is pending again and the case's lease was never released.
    await t.db.db
      .update(slackOutbox)
      .set({ postedTs: null, postedAt: null })
      .where(isNotNull(slackOutbox.postedTs));
    await t.db.db
      .update(cases)
      .set({ slackLeaseUntil: new Date(t.clock.now().getTime() - 1000) })
      .where(eq(cases.id, 1));
    await sync(t);
    expect(posts()).toHaveLength(2);
    expect(t.slack.callsTo('conversations.replies')).toHaveLength(1);
    const [row] = await t.db.db.select().from(slackOutbox);
    expect(row?.postedTs).toBe(tsOf(followUp));
  });

  it('waits out a 429 for as long as Retry-After says, then posts once', async () => {
    const t = carebot();
    t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 30 });
    await postWebhook(t, complaint({ id: 'rl-1' }));
    await sync(t);
    t.clock.advance(minutes(0.25));
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage')).toHaveLength(1);
    t.clock.advance(minutes(0.3));
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(1);
  });

  it('refuses an id holding a lone surrogate with a 400 naming it, and repairs one in the text', async () => {
    const t = carebot();
    for (const [body, field] of [
      [complaint({ id: 'msg-\ud800' }), 'id'],
      [complaint({ conversationId: '\udc00conv' }), 'conversationId'],
      [complaint({ author: { id: 'u\ud800' } }), 'author.id'],
    ] as const) {
      const res = await postWebhook(t, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe(`invalid body: ${field}`);
    }
    expect(await count(t, messages)).toBe(0);
    const res = await postWebhook(
      t,
      complaint({
        id: 'surrogates',
        text: 'half \ud83d an emoji \ud83d\ude00',
        author: { id: 'u1', name: 'Jo \udfff' },
      }),
    );
    expect(res.status).toBe(202);
    const [message] = await t.db.db.select().from(messages);
    expect(message?.text).toBe('half \ufffd an emoji \ud83d\ude00');
    expect(message?.authorName).toBe('Jo \ufffd');
  });

  it('answers /healthz with the database state', async () => {
    const t = carebot();
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
    expect((await fetch(`${t.url}/nope`)).status).toBe(404);
  });
  // Last in the file, and a minute on: the sync keeps each channel's rate-limit pause across
  // tests, while each test's clock starts at the same time again.
  it('posts a pending thread message after a clean attempt without looking for it first', async () => {
    const t = carebot();
    t.clock.advance(minutes(1));
    await postWebhook(t, complaint({ id: 'fu-1', conversationId: 'conv-fu' }));
    await sync(t);
    await postWebhook(t, complaint({ id: 'fu-2', conversationId: 'conv-fu', text: 'Still waiting' }));
    t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await sync(t);
    t.clock.advance(minutes(0.1));
    await sync(t);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(2);
    expect(t.slack.callsTo('conversations.replies')).toHaveLength(0);
    // The sync wakes itself when Retry-After ends (a real timer): let that happen within this test.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await t.carebot.sync.idle();
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(2);
  });
});
