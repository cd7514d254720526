import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fakeAppStoreAccount, fakeAppStoreKey, startFakeAppStore } from '../../emulators/app-store/api.js';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { cases, messages, sourceCursors } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { appStorePoller } from '../../src/sources/app_store/poller.js';
import {
  CARE_CHANNEL,
  deliver,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const key = fakeAppStoreKey();
const app = fakeAppStoreAccount(key);
let current: TestCarebot | undefined;
const store = await startFakeAppStore({
  keys: [key],
  appIds: [app.appId],
  now: () => current?.clock.now() ?? new Date(),
});
const AGENT = 'U0AGENT001';
const POLLER = `app_store:${app.appId}:reviews`;

async function poll(t: TestCarebot) {
  for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
  await sync(t);
}

/** The first poll of a fresh start: from now on. */
async function firstStart(t: TestCarebot) {
  current = t;
  await poll(t);
  // The next poll is due after poll_every (5m).
  t.clock.advance(minutes(5));
}

const cards = (t: TestCarebot) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.ok && !c.params.thread_ts);

async function claimAndReply(t: TestCarebot, text: string, caseId = 1) {
  const card = cards(t).at(-1);
  const threadTs = tsOf(card);
  const channel = String(card?.params.channel);
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(caseId),
      userId: AGENT,
      channelId: channel,
      messageTs: threadTs,
    }),
  );
  await vi.waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
    expect(row?.ownerId).toBe(AGENT);
  });
  await thread(t, channel, threadTs, text);
  return { channel, threadTs };
}

async function thread(t: TestCarebot, channel: string, threadTs: string, text: string) {
  const before = ephemeralsFor(t.slack, AGENT).length;
  await postThreadMessage(t.url, SIGNING_SECRET, { channel, threadTs, user: AGENT, text });
  await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(before));
  t.clock.advance(seconds(11));
  await deliver(t);
  await sync(t);
}

describe('App Store end to end', () => {
  const carebot = useCarebot({
    APP_STORE_ISSUER_ID: key.issuerId,
    APP_STORE_KEY_ID: key.keyId,
    APP_STORE_PRIVATE_KEY: key.privateKeyPem,
    APP_STORE_APP_ID: app.appId,
    APP_STORE_API_URL: store.url,
  });
  afterAll(async () => {
    await store.close();
  });

  it('turns a one-star review into a P2 card, and the owner’s thread reply into the review’s response, once', async () => {
    const t = carebot();
    await firstStart(t);
    const review = store.addReview({
      rating: 1,
      title: 'Crashes',
      body: 'Lost all my notes',
      nickname: 'Anne J.',
      territory: 'DEU',
    });
    await poll(t);
    const card = cards(t).at(-1);
    expect(card?.params.channel).toBe(CARE_CHANNEL);
    const json = JSON.stringify(card?.params.blocks);
    expect(json).toContain('★☆☆☆☆ 1 of 5');
    expect(json).toContain('territory: DEU');
    expect(json).toContain('1-star review');
    expect(json).toContain('Anne J.');
    const [row] = await t.db.db.select().from(cases);
    expect(row).toMatchObject({ platform: 'app_store', priority: 'P2', conversationId: review.id });

    // Polled again (overlap, redelivery): still one case, one card.
    t.clock.advance(minutes(5));
    await poll(t);
    expect(cards(t)).toHaveLength(1);

    const { channel, threadTs } = await claimAndReply(t, 'Sorry, Anne! 4.2.2 fixes it.');
    expect(store.sent.map((s) => [s.reviewId, s.responseBody])).toEqual([
      [review.id, 'Sorry, Anne! 4.2.2 fixes it.'],
    ]);
    const sentLine = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks).includes('Sent to App Store'));
    expect(sentLine).toBeDefined();
    t.clock.advance(minutes(1));
    await deliver(t);
    expect(store.sent).toHaveLength(1);

    // A second reply replaces the first response, and the thread says so.
    await thread(t, channel, threadTs, 'Update: 4.2.3 is out too.');
    expect(store.deleted).toEqual([store.sent[0]?.id]);
    expect(store.responses.get(review.id)?.responseBody).toBe('Update: 4.2.3 is out too.');
    const replaced = t.slack
      .callsTo('chat.postMessage')
      .filter((c) =>
        JSON.stringify(c.params.blocks).includes('Replaced the earlier response on the App Store.'),
      );
    expect(replaced).toHaveLength(1);
  });

  it('posts a card for a 10,000-character nickname and text without pinging anyone', async () => {
    const t = carebot();
    await firstStart(t);
    store.addReview({
      rating: 2,
      nickname: `<!channel> ${'N'.repeat(10_000)}`,
      title: 'Hey <@U123> <!here>',
      body: `${'x'.repeat(10_000)} <!channel>`,
    });
    await poll(t);
    const card = cards(t).at(-1);
    expect(card).toBeDefined();
    const json = JSON.stringify(card?.params);
    expect(json).not.toMatch(/<!channel>|<!here>|<@U123>/);
    expect(String(card?.params.text).length).toBeLessThanOrEqual(4000);
  });

  it('does not send twice when the answer to the first send was lost', async () => {
    const t = carebot();
    await firstStart(t);
    const review = store.addReview({ rating: 1, body: 'Where is my data?' });
    await poll(t);
    const before = store.sent.length;
    const posts = () => store.callsTo('POST', '/v1/customerReviewResponses').length;
    const postsBefore = posts();
    store.failNext('/v1/customerReviewResponses', { status: 502, method: 'POST', apply: true });
    await claimAndReply(t, 'We are restoring it now.');
    t.clock.advance(minutes(2));
    await deliver(t);
    t.clock.advance(minutes(5));
    await deliver(t);
    expect(store.sent.slice(before).map((s) => s.reviewId)).toEqual([review.id]);
    // The second attempt read the review's response, found its own text, and posted nothing.
    expect(posts() - postsBefore).toBe(1);
    expect(store.calls.filter((c) => c.status === 502)).toHaveLength(1);
  });

  it('waits out a 429 on the reply, then sends it once; a restart polls on from the stored cursor', async () => {
    const t = carebot();
    await firstStart(t);
    const review = store.addReview({ rating: 1, body: 'Login broken' });
    await poll(t);
    const [state] = await t.db.db.select().from(sourceCursors).where(eq(sourceCursors.sourceKey, POLLER));
    const cursor = JSON.parse(state?.cursor ?? '');
    // Earlier tests' reviews were written at the same instant of the test clock: their ids are there too.
    expect(cursor.at).toBe(Date.parse(review.createdDate));
    expect(cursor.ids).toContain(review.id);
    // A new poller (a restarted carebot) with that cursor finds nothing new.
    const restarted = appStorePoller(app, { apiUrl: store.url, everyMs: minutes(5), priorityByRating: {} });
    const outcome = await restarted.poll({
      cursor: state?.cursor ?? undefined,
      clock: t.clock,
      logger: createLogger('silent'),
      record: async () => {
        throw new Error('nothing should be stored');
      },
    });
    expect(outcome).toEqual({ kind: 'ok', cursor: undefined, stored: 0 });

    const before = store.sent.length;
    store.failNext('/v1/customerReviews/', { status: 429, method: 'GET', headers: { 'retry-after': '600' } });
    await claimAndReply(t, 'Fixed in 4.2.2.');
    expect(store.sent).toHaveLength(before);
    t.clock.advance(minutes(5));
    await deliver(t);
    expect(store.sent).toHaveLength(before);
    t.clock.advance(minutes(6));
    await deliver(t);
    await deliver(t);
    expect(store.sent.slice(before).map((s) => s.reviewId)).toEqual([review.id]);
  });

  it('pauses the app with one notice when its key is revoked', async () => {
    const t = carebot();
    await firstStart(t);
    store.revokeKey(key.keyId);
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
    expect(String(notices[0]?.params.text)).toContain(`App Store app ${app.appId}`);
    expect(t.logs.join('') + JSON.stringify(notices)).not.toContain(key.privateKeyPem.split('\n')[1]);
    const [state] = await t.db.db.select().from(sourceCursors).where(eq(sourceCursors.sourceKey, POLLER));
    expect(state?.status).toBe('paused');
    expect(await t.db.db.select().from(messages)).toHaveLength(0);
  });
});
