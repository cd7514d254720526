import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  fakeFacebookPage,
  pageDelivery,
  quickReplyEvent,
  signedDelivery,
  startFakeGraph,
} from '../../emulators/graph/api.js';
import { startFakeMastodon } from '../../emulators/mastodon/api.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { credentialsOf, fakeXAccount, startFakeX } from '../../emulators/x/api.js';
import { resolveCase } from '../../src/care/case-lifecycle.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { parseRating, queueRatingQuestion } from '../../src/care/csat.js';
import { forgetCustomer } from '../../src/care/forget.js';
import { leaseDueReplies } from '../../src/care/reply-delivery.js';
import { careStats } from '../../src/care/stats.js';
import { statsPeriod } from '../../src/care/stats-period.js';
import { cases, csatRatings, replies } from '../../src/db/schema.js';
import { statsMessage } from '../../src/slack/stats.js';
import { facebookReplyAdapter } from '../../src/sources/facebook/reply.js';
import { deliver, SIGNING_SECRET, sync, type TestCarebot, tsOf, useCarebot } from '../support/carebot.js';

const page = fakeFacebookPage({ channel: 'C0FBCARE01', instagramAccountId: undefined });
const graph = await startFakeGraph({ pages: [page] });
const brand = fakeXAccount({ name: 'brand', channel: 'C0XCARE001' });
const x = await startFakeX({ credentials: [credentialsOf(brand)] });
const MASTODON_TOKEN = 'mst-csat-token-0123456789';
let mastodonNow = () => new Date();
const mastodon = await startFakeMastodon({
  accounts: [{ token: MASTODON_TOKEN, username: 'acme', displayName: 'Acme Care' }],
  now: () => mastodonNow(),
});

const QUESTION = 'How did we do? Tap or reply 1 (bad) to 5 (great).';
const dir = mkdtempSync(join(tmpdir(), 'carebot-csat-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    `csat: { enabled: true, text: "${QUESTION}" }`,
    'sources:',
    '  facebook:',
    '    pages:',
    `      - { name: brand, page_id: "${page.pageId}", page_token: ${page.pageToken}, app_secret: ${page.appSecret}, verify_token: ${page.verifyToken}, channel: ${page.channel} }`,
    '  x:',
    '    accounts:',
    `      - { name: brand, user_id: "${brand.userId}", consumer_key: ${brand.consumerKey}, consumer_secret: ${brand.consumerSecret}, access_token: ${brand.accessToken}, access_secret: ${brand.accessSecret}, channel: ${brand.channel} }`,
    '  mastodon:',
    '    poll_every: 1m',
    '    channel: C0MASTO001',
  ].join('\n'),
);

const AGENT = 'U0AGENT001';
/** Slack interactions are acked before carebot acts; a busy machine may take more than a second. */
const waitFor = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });
const PSID = '6100000000000042';
let mid = 0;

function messengerMessage(text: string, over: Record<string, unknown> = {}) {
  mid += 1;
  return {
    sender: { id: PSID },
    recipient: { id: page.pageId },
    timestamp: 1_795_428_000_000 + mid,
    message: { mid: `m_customer_${mid}`, text },
    ...over,
  };
}

async function toFacebook(t: TestCarebot, content: { messaging?: unknown[]; feed?: unknown[] }) {
  const { body, headers } = signedDelivery(page.appSecret, pageDelivery(page.pageId, content));
  const res = await fetch(`${t.url}/sources/facebook/webhook`, { method: 'POST', headers, body });
  expect(res.status).toBe(200);
  await sync(t);
}

async function toX(t: TestCarebot, events: unknown[]) {
  const body = JSON.stringify({
    for_user_id: brand.userId,
    direct_message_events: events,
    users: { '42': { id: '42', name: 'Jane Doe', screen_name: 'jane' } },
  });
  const signature = `sha256=${createHmac('sha256', brand.consumerSecret).update(body).digest('base64')}`;
  const res = await fetch(`${t.url}/sources/x/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signature },
    body,
  });
  expect(res.status).toBe(200);
  await sync(t);
}

async function button(t: TestCarebot, actionId: string, caseId: number) {
  const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
  const card = t.slack.callsTo('chat.postMessage').find((c) => c.ok && !c.params.thread_ts);
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId,
      value: String(caseId),
      userId: AGENT,
      channelId: row?.channelId ?? '',
      messageTs: tsOf(card),
    }),
  );
}

async function claimAndResolve(t: TestCarebot, caseId: number) {
  await button(t, 'case_claim', caseId);
  await waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
    expect(row?.ownerId).toBe(AGENT);
  });
  await button(t, 'case_resolve', caseId);
  await waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
    expect(row?.status).toBe('resolved');
  });
}

const threadTexts = (t: TestCarebot) =>
  t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.ok && c.params.thread_ts)
    .map((c) => `${String(c.params.text)} ${JSON.stringify(c.params.blocks ?? [])}`);

const rating = async (t: TestCarebot, caseId: number) =>
  (await t.db.db.select().from(csatRatings).where(eq(csatRatings.caseId, caseId)))[0];

const questions = async (t: TestCarebot) => t.db.db.select().from(replies).where(eq(replies.kind, 'csat'));

describe('asking the customer how we did', () => {
  const carebot = useCarebot({
    CARE_CONFIG: configPath,
    GRAPH_API_URL: graph.url,
    X_API_URL: x.url,
    MASTODON_URL: mastodon.url,
    MASTODON_ACCESS_TOKEN: MASTODON_TOKEN,
  });
  afterAll(async () => {
    await graph.close();
    await x.close();
    await mastodon.close();
  });

  it('Messenger: resolve → one question with quick replies → a tapped answer is recorded, shown and counted', async () => {
    const t = carebot();
    await toFacebook(t, { messaging: [messengerMessage('My order never arrived')] });
    await claimAndResolve(t, 1);
    await sync(t);
    expect(threadTexts(t).join('\n')).toContain('carebot asks the customer how we did');
    // Nothing leaves inside the undo window.
    await deliver(t);
    expect(graph.sent.filter((s) => s.text === QUESTION)).toHaveLength(0);
    t.clock.advance(seconds(11));
    await deliver(t);
    const asked = graph.sent.filter((s) => s.text === QUESTION);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ kind: 'message', target: PSID });
    expect(asked[0]?.quickReplies?.map((q) => q.payload)).toEqual([
      'csat:1',
      'csat:2',
      'csat:3',
      'csat:4',
      'csat:5',
    ]);
    await sync(t);
    expect(threadTexts(t).join('\n')).toContain('Asked the customer how we did');
    expect(threadTexts(t).join('\n')).toContain('How did we do? Tap or reply 1 (bad) to 5 (great).');
    // The agent's own reply count is untouched: the question is carebot's.
    const [row] = await t.db.db.select().from(cases);
    expect(row?.lastReplyAt).toBeNull();

    t.clock.advance(minutes(30));
    await toFacebook(t, {
      messaging: [
        quickReplyEvent(page.pageId, { psid: PSID, mid: 'm_tap_1', title: '4', payload: 'csat:4' }),
      ],
    });
    expect(await rating(t, 1)).toMatchObject({ score: 4, agentId: AGENT });
    const [after] = await t.db.db.select().from(cases);
    expect(after?.status).toBe('resolved');
    expect(await t.db.db.select().from(cases)).toHaveLength(1);
    expect(threadTexts(t).join('\n')).toContain('rated this case ★★★★☆ 4 of 5');

    // A second answer is a message as usual: it reopens the case and nothing is rated again.
    await toFacebook(t, { messaging: [messengerMessage('5')] });
    expect((await rating(t, 1))?.score).toBe(4);
    expect((await t.db.db.select().from(cases))[0]?.status).toBe('open');

    t.clock.advance(minutes(1));
    const stats = await careStats(t.db.db, {
      period: statsPeriod({ kind: '7d' }, t.clock.now(), 'UTC'),
      filter: {},
      now: t.clock.now(),
      businessHours: t.config.businessHours,
    });
    expect(stats.csat?.overall.current).toEqual({ count: 1, average: 4, asked: 1 });
    expect(stats.csat?.byPlatform).toEqual([{ key: 'facebook', count: 1, average: 4 }]);
    expect(stats.csat?.byAgent).toEqual([{ key: AGENT, count: 1, average: 4 }]);
    // Not an agent's reply in the stats.
    expect(stats.agents.find((a) => a.userId === 'carebot')).toBeUndefined();
    const message = JSON.stringify(
      statsMessage(stats, { teams: [], businessHours: t.config.businessHours, chart: 'on_request' }),
    );
    expect(message).toContain('*CSAT* 4.0/5 from 1 answer');
    const byAgent = await careStats(t.db.db, {
      period: statsPeriod({ kind: '7d' }, t.clock.now(), 'UTC'),
      filter: { agentId: 'U0SOMEONE1' },
      now: t.clock.now(),
      businessHours: t.config.businessHours,
    });
    expect(byAgent.csat?.overall.current.count).toBe(0);
  });

  it('X DM: the question carries quick-reply options; the option metadata comes back as the answer', async () => {
    const t = carebot();
    await toX(t, [
      {
        type: 'message_create',
        id: '1862000000000005000',
        created_timestamp: String(t.clock.now().getTime()),
        message_create: {
          target: { recipient_id: brand.userId },
          sender_id: '42',
          message_data: { text: 'Where is my refund?' },
        },
      },
    ]);
    await claimAndResolve(t, 1);
    t.clock.advance(seconds(11));
    await deliver(t);
    const asked = x.sent.filter((s) => s.text === QUESTION);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ kind: 'dm', participantId: '42' });
    expect(asked[0]?.quickReplies?.map((o) => o.metadata)).toEqual([
      'csat:1',
      'csat:2',
      'csat:3',
      'csat:4',
      'csat:5',
    ]);
    expect(x.callsTo('POST', '/1.1/direct_messages/events/new.json')[0]?.signatureValid).toBe(true);
    await toX(t, [
      {
        type: 'message_create',
        id: '1862000000000005009',
        created_timestamp: String(t.clock.now().getTime()),
        message_create: {
          target: { recipient_id: brand.userId },
          sender_id: '42',
          message_data: {
            text: '2',
            quick_reply_response: { type: 'options', metadata: 'csat:2' },
          },
        },
      },
    ]);
    expect((await rating(t, 1))?.score).toBe(2);
    expect((await t.db.db.select().from(cases))[0]?.status).toBe('resolved');
  });

  it('Mastodon direct: no quick replies, the customer answers in words ("@acme 4/5")', async () => {
    const t = carebot();
    mastodonNow = () => t.clock.now();
    for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
    const jane = mastodon.addUser({ username: 'janecsat', displayName: 'Jane Doe' });
    mastodon.addStatus({ author: jane, text: '@acme my address changed', visibility: 'direct' });
    t.clock.advance(minutes(1));
    for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
    await sync(t);
    const [row] = await t.db.db.select().from(cases);
    expect(row?.conversationId.startsWith('dm:')).toBe(true);
    await claimAndResolve(t, row?.id ?? 0);
    t.clock.advance(seconds(11));
    await deliver(t);
    const question = mastodon.sent.find((s) => s.text.includes(QUESTION));
    expect(question?.visibility).toBe('direct');
    mastodon.addStatus({ author: jane, text: '@acme 4/5', visibility: 'direct', inReplyTo: question });
    t.clock.advance(minutes(1));
    for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
    await sync(t);
    expect((await rating(t, row?.id ?? 0))?.score).toBe(4);
    expect((await t.db.db.select().from(cases)).every((c) => c.status === 'resolved')).toBe(true);
  });

  it('never asks in public, nor a forgotten customer', async () => {
    const t = carebot();
    const before = graph.sent.length;
    const POST_ID = `${page.pageId}_9007199254740993001`;
    await toFacebook(t, {
      feed: [
        {
          from: { id: PSID, name: 'Jane Doe' },
          post: { id: POST_ID },
          message: 'My order never arrived',
          post_id: POST_ID,
          comment_id: '9007199254740993001_9007199254740993111',
          parent_id: POST_ID,
          created_time: 1_795_428_000,
          item: 'comment',
          verb: 'add',
        },
      ],
    });
    await claimAndResolve(t, 1);
    expect(await questions(t)).toHaveLength(0);

    // A Messenger case of a customer who asked to be forgotten.
    await toFacebook(t, { messaging: [messengerMessage('Please delete my data')] });
    const [dm] = await t.db.db
      .select()
      .from(cases)
      .where(eq(cases.conversationId, `messenger:${PSID}`));
    await forgetCustomer(t.db.db, t.clock, { caseId: dm?.id ?? 0, actor: AGENT });
    await resolveCase(t.db.db, t.clock, dm?.id ?? 0, AGENT, undefined, {
      csat: { enabled: true, text: QUESTION, delay: seconds(10) },
    });
    expect(await questions(t)).toHaveLength(0);
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(graph.sent.slice(before).filter((s) => s.text === QUESTION)).toHaveLength(0);
  });

  it('a forget while the question waits cancels it; nothing leaves', async () => {
    const t = carebot();
    const before = graph.sent.length;
    await toFacebook(t, { messaging: [messengerMessage('Hello')] });
    await claimAndResolve(t, 1);
    expect(await questions(t)).toHaveLength(1);
    await forgetCustomer(t.db.db, t.clock, { caseId: 1, actor: AGENT });
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(graph.sent.slice(before)).toHaveLength(0);
    expect((await questions(t))[0]?.status).toBe('cancelled');
  });

  it('asks once per case: reopen inside the window withdraws it, resolve again asks once, later cycles never', async () => {
    const t = carebot();
    const before = graph.sent.length;
    await toFacebook(t, { messaging: [messengerMessage('Hi')] });
    await claimAndResolve(t, 1);
    await button(t, 'case_reopen', 1);
    await waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.status).toBe('open'));
    expect(await questions(t)).toHaveLength(0);
    await button(t, 'case_resolve', 1);
    await waitFor(async () => expect(await questions(t)).toHaveLength(1));
    t.clock.advance(seconds(11));
    await deliver(t);
    await button(t, 'case_reopen', 1);
    await waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.status).toBe('open'));
    await button(t, 'case_resolve', 1);
    await waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.status).toBe('resolved'));
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(graph.sent.slice(before).filter((s) => s.text === QUESTION)).toHaveLength(1);
    expect(await questions(t)).toHaveLength(1);
    await sync(t);
    expect(threadTexts(t).filter((m) => m.includes('Asked the customer how we did'))).toHaveLength(1);
  });

  it('two instances queuing the question for one case at once insert one', async () => {
    const t = carebot();
    await toFacebook(t, { messaging: [messengerMessage('Hi')] });
    const resolved = await resolveCase(t.db.db, t.clock, 1, AGENT);
    if (resolved.kind !== 'resolved') throw new Error('not resolved');
    const settings = { enabled: true, text: QUESTION, delay: seconds(10) };
    const results = await Promise.allSettled(
      [0, 1, 2].map(() =>
        t.db.db.transaction((tx) => queueRatingQuestion(tx, resolved.case, settings, t.clock.now())),
      ),
    );
    // The losers either saw the row or lost the insert race; none failed, none queued a second question.
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value !== undefined)).toHaveLength(1);
    expect(await questions(t)).toHaveLength(1);
    expect(await t.db.db.select().from(csatRatings)).toHaveLength(1);
  });

  it('a crash mid-send: the next attempt finds the question on Messenger and does not send it again', async () => {
    const t = carebot();
    const before = graph.sent.length;
    await toFacebook(t, { messaging: [messengerMessage('Hi')] });
    await claimAndResolve(t, 1);
    t.clock.advance(seconds(11));
    // An instance leases the question, sends it, and dies before it can record that.
    const [leased] = await leaseDueReplies(t.db.db, t.clock, 1, 60_000);
    expect(leased?.kind).toBe('csat');
    const adapter = facebookReplyAdapter([{ ...page }], graph.url, 'v21.0', t.clock);
    const sent = await adapter.reply({
      replyId: leased?.id ?? 0,
      caseId: 1,
      sourceKey: `facebook:${page.pageId}`,
      conversationId: `messenger:${PSID}`,
      inReplyTo: null,
      customerId: PSID,
      mode: 'public',
      text: QUESTION,
      agent: { id: 'carebot', name: 'carebot' },
      idempotencyKey: 'crash',
      quickReplies: [{ label: '1', payload: 'csat:1' }],
    });
    expect(sent.ok).toBe(true);
    t.clock.advance(minutes(2));
    await deliver(t);
    expect(graph.sent.slice(before).filter((s) => s.text === QUESTION)).toHaveLength(1);
    expect((await questions(t))[0]?.status).toBe('sent');
  });

  it('hostile or wordy answers are messages as usual: the case reopens, nothing is rated, nobody is pinged', async () => {
    const t = carebot();
    await toFacebook(t, { messaging: [messengerMessage('Hi')] });
    await claimAndResolve(t, 1);
    t.clock.advance(seconds(11));
    await deliver(t);
    // A forged payload with a rating-like title is not an answer.
    await toFacebook(t, {
      messaging: [
        quickReplyEvent(page.pageId, {
          psid: PSID,
          mid: 'm_forged',
          title: `<!channel> <@U0BOSS0001> 5 ${'x'.repeat(10_000)}`,
          payload: 'csat:9',
        }),
      ],
    });
    expect((await rating(t, 1))?.score).toBeNull();
    expect((await t.db.db.select().from(cases))[0]?.status).toBe('open');
    const posted = t.slack.callsTo('chat.postMessage').filter((c) => c.ok);
    for (const c of posted) {
      const json = JSON.stringify(c.params);
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<@U0BOSS0001>');
    }
  });

  it('understands ratings in words, and nothing else', () => {
    expect(parseRating('5')).toBe(5);
    expect(parseRating(' 4/5 ')).toBe(4);
    expect(parseRating('3 of 5')).toBe(3);
    expect(parseRating('⭐⭐⭐⭐⭐')).toBe(5);
    expect(parseRating('⭐️⭐️')).toBe(2);
    expect(parseRating('@acme@mastodon.social 1')).toBe(1);
    expect(parseRating('anything', 'csat:3')).toBe(3);
    for (const no of [
      '6',
      '0',
      '4, but the courier was rude',
      '10/10',
      '',
      '5 stars for the idea',
      'csat:5',
    ]) {
      expect(parseRating(no)).toBeUndefined();
    }
    expect(parseRating('nope', 'csat:7')).toBeUndefined();
  });
});
