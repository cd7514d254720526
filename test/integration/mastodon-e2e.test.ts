import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type FakeMastodonUser, startFakeMastodon } from '../../emulators/mastodon/api.js';
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

const TOKEN = 'mst-e2e-token-0123456789';
let now = () => new Date();
const mastodon = await startFakeMastodon({
  accounts: [{ token: TOKEN, username: 'acme', displayName: 'Acme Care' }],
  now: () => now(),
  maxCharacters: 800,
});
const dir = mkdtempSync(join(tmpdir(), 'carebot-mastodon-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  ['sources:', '  mastodon:', '    poll_every: 1m', '    channel: C0MASTO001'].join('\n'),
);

const AGENT = 'U0AGENT001';
const CHANNEL = 'C0MASTO001';

async function poll(t: TestCarebot) {
  for (let i = 0; i < 20 && (await t.carebot.pollers.runOnce()); i++) {}
  await sync(t);
}

/** The first poll of a fresh start: it takes nothing from before it. */
async function firstStart(t: TestCarebot) {
  now = () => t.clock.now();
  await poll(t);
}

const cards = (t: TestCarebot) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.ok && !c.params.thread_ts);

async function claimAndReply(t: TestCarebot, text: string): Promise<string> {
  const card = cards(t).at(-1);
  const threadTs = tsOf(card);
  const [row] = await t.db.db.select().from(cases);
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(row?.id),
      userId: AGENT,
      channelId: CHANNEL,
      messageTs: threadTs,
    }),
  );
  await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(AGENT));
  await postThreadMessage(t.url, SIGNING_SECRET, { channel: CHANNEL, threadTs, user: AGENT, text });
  await vi.waitFor(() => expect(ephemeralsFor(t.slack, AGENT).length).toBeGreaterThan(0));
  return threadTs;
}

describe('Mastodon through carebot', () => {
  const carebot = useCarebot({
    CARE_CONFIG: configPath,
    MASTODON_URL: mastodon.url,
    MASTODON_ACCESS_TOKEN: TOKEN,
  });
  afterAll(async () => {
    await mastodon.close();
  });
  let n = 0;
  const customer = (over: Partial<Parameters<typeof mastodon.addUser>[0]> = {}): FakeMastodonUser =>
    mastodon.addUser({ username: `jane${++n}`, displayName: 'Jane Doe', followers: 12_345, ...over });

  it('turns a mention into a card, sends the reply under the latest status once, and threads the answer back', async () => {
    const t = carebot();
    await firstStart(t);
    const jane = customer({ domain: 'fosstodon.org' });
    const mention = mastodon.addStatus({
      author: jane,
      text: '@acme my order never arrived',
      spoilerText: 'order rant',
    });
    t.clock.advance(minutes(1));
    await poll(t);
    const card = cards(t).at(-1);
    expect(card?.params.channel).toBe(CHANNEL);
    const json = JSON.stringify(card?.params.blocks);
    expect(json).toContain(`@${jane.acct}`);
    expect(json).toContain('12.3k followers');
    expect(json).toContain('CW: order rant');
    expect(json).toContain(mention.url);
    expect(json).not.toContain('Replies go by DM');

    await claimAndReply(t, "Hi Jane, I'm sorry! Which order number?");
    t.clock.advance(seconds(11));
    await deliver(t);
    await deliver(t);
    expect(mastodon.sent.map((s) => [s.inReplyToId, s.visibility, s.text])).toEqual([
      [mention.id, 'public', `@${jane.acct} Hi Jane, I'm sorry! Which order number?`],
    ]);
    expect(mastodon.callsTo('POST', '/api/v1/statuses')[0]?.idempotencyKey).toBeTruthy();
    await sync(t);
    const sentLine = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks).includes('Sent to'));
    expect(JSON.stringify(sentLine?.params.blocks)).toContain(mastodon.sent[0]?.url ?? 'no url');

    // The customer answers carebot's reply: it joins the case, not a new one.
    const answer = mastodon.addStatus({ author: jane, text: '@acme #12345', inReplyTo: mastodon.sent[0] });
    t.clock.advance(minutes(1));
    await poll(t);
    const rows = await t.db.db.select().from(messages).where(eq(messages.kind, 'inbound'));
    expect(rows.map((m) => m.externalId)).toEqual([mention.id, answer.id]);
    expect(await t.db.db.select().from(cases)).toHaveLength(1);
  });

  it("answers a direct mention directly, with the lock on the card; the brand's own status is no case", async () => {
    const t = carebot();
    await firstStart(t);
    const jane = customer();
    mastodon.addStatus({ author: mastodon.brand(), text: '@acme note to self' });
    const dm = mastodon.addStatus({
      author: jane,
      text: '@acme my address is 1 Main St',
      visibility: 'direct',
    });
    t.clock.advance(minutes(1));
    await poll(t);
    expect(cards(t)).toHaveLength(1);
    expect(JSON.stringify(cards(t)[0]?.params.blocks)).toContain('Replies go by DM');
    const [row] = await t.db.db.select().from(cases);
    expect(row?.conversationId).toBe(`dm:${dm.id}`);
    const before = mastodon.sent.length;
    await claimAndReply(t, 'Thanks, we will ship it today.');
    t.clock.advance(seconds(11));
    await deliver(t);
    expect(mastodon.sent.slice(before).map((s) => [s.inReplyToId, s.visibility])).toEqual([
      [dm.id, 'direct'],
    ]);
  });

  it('sends once when an attempt posted but its answer was lost (a crash mid-send)', async () => {
    const t = carebot();
    await firstStart(t);
    const jane = customer();
    const mention = mastodon.addStatus({ author: jane, text: '@acme broken again' });
    t.clock.advance(minutes(1));
    await poll(t);
    const before = mastodon.sent.length;
    mastodon.failNext('/api/v1/statuses', {
      method: 'POST',
      status: 503,
      apply: true,
      body: '<html>down</html>',
    });
    await claimAndReply(t, 'Looking into it now.');
    t.clock.advance(seconds(11));
    await deliver(t);
    const [first] = await t.db.db.select().from(replies);
    expect(first?.status).not.toBe('sent');
    for (let i = 0; i < 5; i++) {
      t.clock.advance(minutes(2));
      await deliver(t);
    }
    const [after] = await t.db.db.select().from(replies);
    expect(after?.status).toBe('sent');
    expect(mastodon.sent.slice(before).map((s) => s.inReplyToId)).toEqual([mention.id]);
    expect(after?.externalId).toBe(mastodon.sent.at(-1)?.id);
  });

  it('keeps hostile text and a 10,000-character name inside Slack and pings nobody', async () => {
    const t = carebot();
    await firstStart(t);
    const jane = customer({ displayName: `<!channel> ${'N'.repeat(10_000)}` });
    mastodon.addStatus({ author: jane, text: `@acme <!channel> <@U123> hey <!here> ${'x'.repeat(10_000)}` });
    t.clock.advance(minutes(1));
    await poll(t);
    const card = cards(t).at(-1);
    expect(card?.ok).toBe(true);
    const json = JSON.stringify(card?.params);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U123>');
    expect(json).not.toContain('<!here>');
  });

  it('pauses on a revoked token with one notice, and waits out a 429 on polling', async () => {
    const t = carebot();
    await firstStart(t);
    mastodon.failNext('/api/v1/notifications', {
      status: 429,
      headers: { 'x-ratelimit-reset': new Date(t.clock.now().getTime() + minutes(4)).toISOString() },
      body: { error: 'Too many requests' },
    });
    t.clock.advance(minutes(1));
    await poll(t);
    const [limited] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, 'mastodon:default'));
    expect(limited?.status).not.toBe('paused');

    mastodon.failNext('/api/v1/notifications', {
      status: 401,
      times: 3,
      body: { error: 'The access token is invalid' },
    });
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
    expect(String(notices[0]?.params.text)).toContain('Mastodon account "default"');
    expect(String(notices[0]?.params.text)).not.toContain(TOKEN);
    expect(t.logs.join('')).not.toContain(TOKEN);
    const [state] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, 'mastodon:default'));
    expect(state?.status).toBe('paused');
  });
});
