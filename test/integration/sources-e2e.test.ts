import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startFakeFeed } from '../../emulators/feed/server.js';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { credentialsOf, fakeXAccount, startFakeX } from '../../emulators/x/api.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { cases, messages, sourceCursors } from '../../src/db/schema.js';
import {
  blocksOf,
  CARE_CHANNEL,
  deliver,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const brand = fakeXAccount({ name: 'brand', channel: 'C0XBRAND01' });
const help = fakeXAccount({
  name: 'askbrand',
  userId: '1700000000000000002',
  accessToken: '1700000000000000002-at-help',
  accessSecret: 'as-help-secret',
  channel: 'C0XHELP001',
});
const x = await startFakeX({ credentials: [credentialsOf(brand), credentialsOf(help)] });
const feeds = await startFakeFeed();
const jane = { id: '42', username: 'jane', name: 'Jane Doe', followers: 12_345 };

const dir = mkdtempSync(join(tmpdir(), 'carebot-sources-'));
const configPath = join(dir, 'carebot.config.yaml');
const account = (a: typeof brand) =>
  `    - { name: ${a.name}, user_id: "${a.userId}", consumer_key: ${a.consumerKey}, consumer_secret: ${a.consumerSecret}, access_token: ${a.accessToken}, access_secret: ${a.accessSecret}, channel: ${a.channel} }`;
writeFileSync(
  configPath,
  [
    'sources:',
    '  x:',
    '    poll_every: 1m',
    '    accounts:',
    account(brand),
    account(help),
    '  rss:',
    '    poll_every: 5m',
    '    allow_private_network: true',
    `    feeds: [{ name: forum, url: "${feeds.url('/forum.xml')}" }]`,
  ].join('\n'),
);

const AGENT = 'U0AGENT001';

async function poll(t: TestCarebot) {
  for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
  await sync(t);
}

async function claim(t: TestCarebot, caseId: number, channel: string, ts: string) {
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(caseId),
      userId: AGENT,
      channelId: channel,
      messageTs: ts,
    }),
  );
  await vi.waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
    expect(row?.ownerId).toBe(AGENT);
  });
}

/** Starts the pollers on an empty feed and timeline: a source takes only what is new. */
async function firstStart(t: TestCarebot) {
  feeds.setFeed('/forum.xml', { type: 'rss', items: [] });
  await poll(t);
}

describe('sources end to end', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath, X_API_URL: x.url });
  afterAll(async () => {
    await x.close();
    await feeds.close();
  });

  it('turns an X mention into a card in its account channel and sends the reply to the right post', async () => {
    const t = carebot();
    await firstStart(t);
    const mention = x.addTweet({
      text: '@brand my order never arrived',
      author: jane,
      mentions: [brand.userId],
      createdAt: t.clock.now(),
    });
    t.clock.advance(minutes(1));
    await poll(t);
    const card = t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts);
    expect(card?.params.channel).toBe('C0XBRAND01');
    const cardJson = JSON.stringify(card?.params.blocks);
    expect(cardJson).toContain('(@jane)');
    expect(cardJson).toContain('12.3k followers');
    expect(cardJson).toContain(`<https://x.com/jane/status/${mention.id}|View original>`);
    expect(
      blocksOf(card)
        .find((b) => b.type === 'actions')
        ?.elements?.map((e) => e.action_id),
    ).toContain('case_dm');

    const threadTs = tsOf(card);
    await claim(t, 1, 'C0XBRAND01', threadTs);
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: 'C0XBRAND01',
      threadTs,
      user: AGENT,
      text: "Hi Jane, I'm sorry! Could you DM us your order number?",
    });
    await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(0));
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(x.sent.slice(-1)).toEqual([
      expect.objectContaining({
        kind: 'post',
        inReplyTo: mention.id,
        text: "Hi Jane, I'm sorry! Could you DM us your order number?",
      }),
    ]);
    await sync(t);
    const line = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks).includes('Sent to X'));
    expect(JSON.stringify(line?.params.blocks)).toContain(`https://x.com/brand/status/${x.sent[0]?.id}`);
  });

  it('answers by DM once an agent moved the case to DM', async () => {
    const t = carebot();
    await firstStart(t);
    x.addTweet({
      text: '@brand my card was charged twice',
      author: jane,
      mentions: [brand.userId],
      createdAt: t.clock.now(),
    });
    t.clock.advance(minutes(1));
    await poll(t);
    const threadTs = tsOf(t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts));
    await claim(t, 1, 'C0XBRAND01', threadTs);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_dm',
        value: '1',
        userId: AGENT,
        channelId: 'C0XBRAND01',
        messageTs: threadTs,
      }),
    );
    await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.replyMode).toBe('private'));
    const sentBefore = x.sent.length;
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: 'C0XBRAND01',
      threadTs,
      user: AGENT,
      text: 'Refund on its way. Sorry for the trouble!',
    });
    await vi.waitFor(async () => expect((await t.db.db.select().from(messages)).length).toBeGreaterThan(0));
    await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(0));
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(x.sent.slice(sentBefore)).toEqual([
      expect.objectContaining({
        kind: 'dm',
        participantId: jane.id,
        text: 'Refund on its way. Sorry for the trouble!',
      }),
    ]);
  });

  it('routes two accounts to two channels', async () => {
    const t = carebot();
    await firstStart(t);
    x.addTweet({
      text: '@brand where is my parcel',
      author: jane,
      mentions: [brand.userId],
      createdAt: t.clock.now(),
    });
    x.addTweet({
      text: '@askbrand app crashes on login',
      author: jane,
      mentions: [help.userId],
      createdAt: t.clock.now(),
    });
    t.clock.advance(minutes(1));
    await poll(t);
    const channels = t.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.ok && !c.params.thread_ts)
      .map((c) => c.params.channel)
      .sort();
    expect(channels).toEqual(['C0XBRAND01', 'C0XHELP001']);
  });

  it('pauses an X account whose token was revoked, with one notice in the care channel', async () => {
    const t = carebot();
    await firstStart(t);
    x.failNext(`/2/users/${brand.userId}/mentions`, { status: 401, times: 3 });
    for (let i = 0; i < 3; i++) {
      t.clock.advance(minutes(5));
      await poll(t);
    }
    const notices = t.slack
      .callsTo('chat.postMessage')
      .filter(
        (c) => c.ok && c.params.channel === CARE_CHANNEL && String(c.params.text).includes('is paused'),
      );
    expect(notices).toHaveLength(1);
    expect(String(notices[0]?.params.text)).toContain('X account @brand');
    expect(String(notices[0]?.params.text)).not.toContain(brand.accessToken);
    const [state] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, `x:${brand.userId}:mentions`));
    expect(state?.status).toBe('paused');
  });

  it('waits out a 429 on a reply until X resets, then sends it once', async () => {
    const t = carebot();
    await firstStart(t);
    const mention = x.addTweet({
      text: '@brand hello?',
      author: jane,
      mentions: [brand.userId],
      createdAt: t.clock.now(),
    });
    t.clock.advance(minutes(1));
    await poll(t);
    const threadTs = tsOf(t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts));
    await claim(t, 1, 'C0XBRAND01', threadTs);
    const reset = Math.floor(t.clock.now().getTime() / 1000) + 15 * 60;
    x.failNext('/2/tweets', { status: 429, headers: { 'x-rate-limit-reset': String(reset) } });
    const before = x.sent.length;
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: 'C0XBRAND01',
      threadTs,
      user: AGENT,
      text: 'Hi Jane!',
    });
    await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(0));
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(x.sent).toHaveLength(before);
    t.clock.advance(minutes(10));
    await deliver(t);
    expect(x.sent).toHaveLength(before);
    t.clock.advance(minutes(6));
    await deliver(t);
    await deliver(t);
    expect(x.sent.slice(before).map((s) => s.inReplyTo)).toEqual([mention.id]);
  });

  it('brings forum posts in from RSS, with Open to reply and I replied on the site', async () => {
    const t = carebot();
    await firstStart(t);
    t.clock.advance(minutes(1));
    feeds.setFeed('/forum.xml', {
      type: 'rss',
      items: [
        {
          id: 'post-77',
          title: 'Broken charger',
          link: 'https://forum.example/t/77',
          content: '<p>The charger <b>stopped</b> working after a week &amp; support never answered.</p>',
          published: t.clock.now(),
          author: 'mike',
        },
      ],
    });
    t.clock.advance(minutes(5));
    await poll(t);
    const card = t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts);
    expect(JSON.stringify(card?.params.blocks)).toContain(
      'stopped working after a week &amp; support never answered',
    );
    const buttons = blocksOf(card).find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.find((b) => b.action_id === 'case_open_original')?.url).toBe('https://forum.example/t/77');
    expect(buttons.map((b) => b.action_id)).toContain('case_replied_on_site');
    expect(buttons.map((b) => b.action_id)).not.toContain('case_reply');

    t.clock.advance(minutes(5));
    await poll(t);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.ok && !c.params.thread_ts)).toHaveLength(1);

    const threadTs = tsOf(card);
    await claim(t, 1, CARE_CHANNEL, threadTs);
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: AGENT,
      text: 'Replying on the forum now',
    });
    await vi.waitFor(() =>
      expect(ephemeralsFor(t.slack, AGENT).map((c) => String(c.params.text))).toContainEqual(
        expect.stringContaining('I replied on the site'),
      ),
    );
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_replied_on_site',
        value: '1',
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    await vi.waitFor(async () =>
      expect((await t.db.db.select().from(cases))[0]?.firstResponseAt).not.toBeNull(),
    );
  });
});
