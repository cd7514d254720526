import { eq } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  credentialsOf,
  didOf,
  type FakeBluesky,
  fakeBlueskyAccount,
  startFakeBluesky,
} from '../../emulators/bluesky/api.js';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { cases, messages, replies, sourceCursors } from '../../src/db/schema.js';
import {
  CARE_CHANNEL,
  deliver,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const brand = fakeBlueskyAccount({ name: 'default' });
const BRAND_DID = didOf(brand.identifier);
let now: () => Date = () => new Date();
const bsky: FakeBluesky = await startFakeBluesky({ credentials: [credentialsOf(brand)], now: () => now() });
const jane = bsky.addActor({ handle: 'jane.bsky.social', displayName: 'Jane Doe', followers: 12_345 });
const AGENT = 'U0AGENT001';

async function poll(t: TestCarebot) {
  for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
  await sync(t);
}

/** Starts the pollers: a source takes only what is new from here on. */
async function firstStart(t: TestCarebot) {
  now = () => t.clock.now();
  await poll(t);
  t.clock.advance(minutes(1));
}

const cards = (t: TestCarebot) =>
  t.slack
    .callsTo('chat.postMessage')
    .filter(
      (c) =>
        c.ok &&
        !c.params.thread_ts &&
        c.params.channel === CARE_CHANNEL &&
        JSON.stringify(c.params.blocks ?? '').includes('case_claim'),
    );

async function claimAndAnswer(t: TestCarebot, text: string): Promise<string> {
  const threadTs = tsOf(cards(t)[0]);
  const [row] = await t.db.db.select().from(cases);
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(row?.id),
      userId: AGENT,
      channelId: CARE_CHANNEL,
      messageTs: threadTs,
    }),
  );
  await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(AGENT));
  await postThreadMessage(t.url, SIGNING_SECRET, { channel: CARE_CHANNEL, threadTs, user: AGENT, text });
  await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(0));
  return threadTs;
}

describe('Bluesky through carebot', () => {
  const carebot = useCarebot({
    BLUESKY_IDENTIFIER: brand.identifier,
    BLUESKY_APP_PASSWORD: brand.appPassword,
    BLUESKY_SERVICE_URL: bsky.url,
  });
  beforeEach(() => {
    bsky.reset();
  });
  afterAll(async () => {
    await bsky.close();
  });

  it('turns a mention into a card and sends the owner’s reply into the thread, once', async () => {
    const t = carebot();
    await firstStart(t);
    const sentBefore = bsky.sent.length;
    const mention = bsky.addPost({ author: jane, text: '@acme.bsky.social my order never arrived' });
    t.clock.advance(minutes(1));
    await poll(t);
    // Overlapping and repeated polls bring nothing twice.
    t.clock.advance(minutes(1));
    await poll(t);
    expect(cards(t)).toHaveLength(1);
    const cardJson = JSON.stringify(cards(t)[0]?.params.blocks);
    expect(cardJson).toContain('Jane Doe');
    expect(cardJson).toContain('12.3k followers');
    expect(cardJson).toContain(`https://bsky.app/profile/jane.bsky.social/post/${mention.rkey}`);

    await claimAndAnswer(t, 'Hi Jane, so sorry! Could you send us your order number?');
    t.clock.advance(seconds(11));
    await deliver(t);
    await deliver(t);
    const sent = bsky.sent.slice(sentBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.record).toMatchObject({
      text: 'Hi Jane, so sorry! Could you send us your order number?',
      reply: { root: { uri: mention.uri }, parent: { uri: mention.uri } },
    });
    await sync(t);
    const line = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks ?? '').includes('Sent to Bluesky'));
    expect(JSON.stringify(line?.params.blocks)).toContain(
      `https://bsky.app/profile/acme.bsky.social/post/${sent[0]?.rkey}`,
    );

    // The brand's reply is the brand's own post: polling it back opens nothing.
    t.clock.advance(minutes(1));
    await poll(t);
    expect(await t.db.db.select().from(cases)).toHaveLength(1);
    expect((await t.db.db.select().from(messages)).filter((m) => m.kind === 'inbound')).toHaveLength(1);
  });

  it('does not post twice when a send crashed after the post left', async () => {
    const t = carebot();
    await firstStart(t);
    const sentBefore = bsky.sent.length;
    bsky.addPost({ author: jane, text: '@acme.bsky.social charged twice' });
    t.clock.advance(minutes(1));
    await poll(t);
    await claimAndAnswer(t, 'Refund is on its way.');
    // The post is made, the answer is lost, and so is the look that follows.
    bsky.failNext('com.atproto.repo.createRecord', { status: 502, apply: true });
    bsky.failNext('com.atproto.repo.getRecord', { status: 502 });
    t.clock.advance(seconds(11));
    await deliver(t);
    expect((await t.db.db.select().from(replies))[0]?.outcomeUnknown).toBe(true);
    t.clock.advance(minutes(5));
    await deliver(t);
    expect(bsky.sent.slice(sentBefore)).toHaveLength(1);
    expect((await t.db.db.select().from(replies))[0]?.status).toBe('sent');
  });

  it('pauses the account when its app password is revoked, with one notice', async () => {
    const t = carebot();
    await firstStart(t);
    bsky.revokeAppPassword(brand.identifier);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(minutes(6));
      await poll(t);
    }
    const notices = t.slack
      .callsTo('chat.postMessage')
      .filter(
        (c) => c.ok && c.params.channel === CARE_CHANNEL && String(c.params.text).includes('is paused'),
      );
    expect(notices).toHaveLength(1);
    expect(String(notices[0]?.params.text)).toContain('Bluesky account @acme.bsky.social');
    expect(String(notices[0]?.params.text)).not.toContain(brand.appPassword);
    expect(t.logs.join('')).not.toContain(brand.appPassword);
    const [state] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, 'bluesky:acme.bsky.social:notifications'));
    expect(state?.status).toBe('paused');
  });

  it('posts a card within Slack’s limits for a huge name and text, and never pings', async () => {
    const t = carebot();
    await firstStart(t);
    const loud = bsky.addActor({
      handle: 'loud.bsky.social',
      displayName: `<!channel> ${'N'.repeat(10_000)}`,
    });
    bsky.addPost({
      author: loud,
      text: `@acme.bsky.social <!channel> <@U123> <!here> ${'x'.repeat(10_000)}`,
    });
    // Someone calling themselves the brand is still a customer: only the account's own DID is the brand.
    const fake = bsky.addActor({ handle: 'acme-care.bsky.social', displayName: 'Acme Care' });
    bsky.addPost({ author: fake, text: '@acme.bsky.social DM me your card number for a refund' });
    t.clock.advance(minutes(1));
    await poll(t);
    const posted = cards(t);
    expect(posted).toHaveLength(2);
    for (const card of posted) {
      const json = JSON.stringify(card.params);
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<@U123>');
      expect(json).not.toContain('<!here>');
    }
    expect(posted.every((c) => c.ok)).toBe(true);
    expect(BRAND_DID).not.toBe(fake.did);
  });

  // Last: the account's client remembers the reset, and the test clock starts over at each test.
  it('waits out a 429 on polling, then reads what came in meanwhile', async () => {
    const t = carebot();
    await firstStart(t);
    const reset = Math.floor(t.clock.now().getTime() / 1000) + 10 * 60;
    bsky.failNext('app.bsky.notification.listNotifications', {
      status: 429,
      headers: { 'ratelimit-reset': String(reset) },
    });
    bsky.addPost({ author: jane, text: '@acme.bsky.social hello?' });
    await poll(t);
    expect(cards(t)).toHaveLength(0);
    t.clock.advance(minutes(11));
    await poll(t);
    expect(cards(t)).toHaveLength(1);
  });
});
