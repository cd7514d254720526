import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startFakeGooglePlay } from '../../emulators/google-play/api.js';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { cases, sourceCursors } from '../../src/db/schema.js';
import {
  CARE_CHANNEL,
  deliver,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const PKG = 'com.acme.shop';
const CHANNEL = 'C0PLAYCARE';
const AGENT = 'U0AGENT001';
let clockOf: () => Date = () => new Date();
const play = await startFakeGooglePlay({ now: () => clockOf() });
const key = play.addServiceAccount({ packages: [PKG] });
const dir = mkdtempSync(join(tmpdir(), 'carebot-play-e2e-'));
const keyPath = join(dir, 'service-account.json');
writeFileSync(keyPath, JSON.stringify(key.keyFile));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'sources:',
    '  google_play:',
    '    poll_every: 5m',
    `    accounts: [{ name: shop, package_name: ${PKG}, credentials_file: ${JSON.stringify(keyPath)}, channel: ${CHANNEL} }]`,
  ].join('\n'),
);
const REPLY_PATH = (reviewId: string) =>
  `/androidpublisher/v3/applications/${PKG}/reviews/${encodeURIComponent(reviewId)}:reply`;

async function poll(t: TestCarebot) {
  for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
  await sync(t);
}

async function claim(t: TestCarebot, caseId: number, ts: string) {
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(caseId),
      userId: AGENT,
      channelId: CHANNEL,
      messageTs: ts,
    }),
  );
  await vi.waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
    expect(row?.ownerId).toBe(AGENT);
  });
}

async function answer(t: TestCarebot, threadTs: string, text: string) {
  const before = ephemeralsFor(t.slack, AGENT).length;
  await postThreadMessage(t.url, SIGNING_SECRET, { channel: CHANNEL, threadTs, user: AGENT, text });
  await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(before));
  t.clock.advance(seconds(11));
  await deliver(t);
  await sync(t);
}

const cards = (t: TestCarebot) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.ok && !c.params.thread_ts);

/** The first poll on an empty app: carebot takes only what comes after it. */
async function firstStart(t: TestCarebot) {
  clockOf = () => t.clock.now();
  play.reviews.length = 0;
  play.replies.length = 0;
  play.calls.length = 0;
  await poll(t);
  t.clock.advance(minutes(5));
}

describe('Google Play end to end', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath, GOOGLE_PLAY_API_URL: play.url });
  afterAll(async () => {
    await play.close();
  });

  it('turns a one-star review into a card with its facts and priority, and answers it on Play once', async () => {
    const t = carebot();
    await firstStart(t);
    const review = play.addReview({
      packageName: PKG,
      authorName: 'Jane Doe',
      title: 'Crashes',
      text: 'The app closes at start <!channel> <@U123>',
      stars: 1,
      at: t.clock.now(),
    });
    t.clock.advance(minutes(5));
    await poll(t);
    const [card] = cards(t);
    expect(card?.params.channel).toBe(CHANNEL);
    const json = JSON.stringify(card?.params.blocks);
    for (const fact of [
      '★☆☆☆☆ 1 of 5',
      'app 4.2.1',
      'panther (Pixel 7) · Android 14',
      'language: en',
      '1-star review',
    ])
      expect(json).toContain(fact);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U123>');
    expect((await t.db.db.select().from(cases))[0]?.priority).toBe('P2');

    const threadTs = tsOf(card);
    await claim(t, 1, threadTs);
    await answer(t, threadTs, 'Sorry, Jane! Version 4.2.2 fixes the crash.');
    expect(play.replies).toEqual([
      { reviewId: review.reviewId, text: 'Sorry, Jane! Version 4.2.2 fixes the crash.' },
    ]);
    const sent = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks).includes('Sent to Google Play'));
    expect(sent).toBeDefined();

    // A second answer replaces the first on Play, and the thread says so.
    await answer(t, threadTs, 'Update: 4.2.2 is live in the Play Store now.');
    expect(play.reviews[0]?.reply?.text).toBe('Update: 4.2.2 is live in the Play Store now.');
    expect(
      t.slack
        .callsTo('chat.postMessage')
        .some((c) => JSON.stringify(c.params.blocks).includes('Replaced the earlier reply on Google Play.')),
    ).toBe(true);

    // The author edits the review: a follow-up in the same thread, with the old rating.
    t.clock.advance(minutes(10));
    play.editReview(review.reviewId, { text: 'Works again, thanks', stars: 4 });
    t.clock.advance(minutes(5));
    await poll(t);
    expect(cards(t)).toHaveLength(1);
    const followUp = t.slack
      .callsTo('chat.postMessage')
      .find((c) => c.params.thread_ts === threadTs && JSON.stringify(c.params).includes('Works again'));
    expect(JSON.stringify(followUp?.params)).toContain('edited review: was 1★');
    // Polling again adds nothing.
    t.clock.advance(minutes(5));
    await poll(t);
    expect(
      t.slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.params).includes('Works again')),
    ).toHaveLength(1);
  });

  it('sends a reply whose answer was lost exactly once', async () => {
    const t = carebot();
    await firstStart(t);
    const review = play.addReview({ packageName: PKG, text: 'refund?', stars: 2, at: t.clock.now() });
    t.clock.advance(minutes(5));
    await poll(t);
    const threadTs = tsOf(cards(t)[0]);
    await claim(t, 1, threadTs);
    play.failNext(REPLY_PATH(review.reviewId), { status: 503, apply: true, method: 'POST' });
    await answer(t, threadTs, 'Your refund is on its way.');
    t.clock.advance(minutes(2));
    await deliver(t);
    await deliver(t);
    expect(play.replies).toHaveLength(1);
    expect(play.callsTo('POST', ':reply')).toHaveLength(1);
  });

  it('posts a card for a 10,000-character name and text within Slack’s limits', async () => {
    const t = carebot();
    await firstStart(t);
    play.addReview({
      packageName: PKG,
      authorName: 'N'.repeat(10_000),
      text: `${'x'.repeat(9_990)} <!here>`,
      stars: 1,
      at: t.clock.now(),
    });
    t.clock.advance(minutes(5));
    await poll(t);
    const [card] = cards(t);
    expect(card?.ok).toBe(true);
    expect(JSON.stringify(card?.params)).not.toContain('<!here>');
  });

  it('pauses the app with one notice when its key is deleted', async () => {
    const t = carebot();
    await firstStart(t);
    play.deleteKey(key.account.keyId);
    play.revokeTokens();
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
    expect(String(notices[0]?.params.text)).toContain(`Google Play app ${PKG}`);
    expect(t.logs.join('')).not.toContain(key.keyFile.private_key.slice(40, 80));
    const [state] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, `google_play:${PKG}`));
    expect(state?.status).toBe('paused');
  });
});
