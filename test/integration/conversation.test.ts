import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ephemeralsFor,
  postMessageDelete,
  postMessageEdit,
  postThreadMessage,
} from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { seconds } from '../../src/care/clock.js';
import { caseEvents, cases, messages, replies } from '../../src/db/schema.js';
import {
  blocksOf,
  CARE_CHANNEL,
  complaint,
  deliver,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const configDir = mkdtempSync(join(tmpdir(), 'carebot-conv-'));
const configPath = join(configDir, 'carebot.config.yaml');
writeFileSync(configPath, 'teams:\n  - { key: pr, name: PR, usergroup: S0PR00001 }\nreply_delay: 10s\n');

const AGENT = 'U0AGENT001';
const OTHER = 'U0AGENT002';
const PR_PERSON = 'U0PR000001';

async function openCase(t: TestCarebot, conversationId = 't-9'): Promise<string> {
  await postWebhook(t, complaint({ id: `m-${conversationId}`, conversationId }));
  await sync(t);
  return tsOf(t.slack.callsTo('chat.postMessage')[0]);
}

async function claim(t: TestCarebot, threadTs: string, user = AGENT) {
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: '1',
      userId: user,
      channelId: CARE_CHANNEL,
      messageTs: threadTs,
    }),
  );
  await vi.waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    expect(row?.ownerId).toBe(user);
  });
}

function say(
  t: TestCarebot,
  threadTs: string,
  user: string,
  text: string,
  extra: { ts?: string; retryNum?: number; eventId?: string } = {},
) {
  return postThreadMessage(t.url, SIGNING_SECRET, { channel: CARE_CHANNEL, threadTs, user, text, ...extra });
}

const replyRows = (t: TestCarebot) => t.db.db.select().from(replies).orderBy(asc(replies.id));
const eventTypes = async (t: TestCarebot) =>
  (await t.db.db.select().from(caseEvents).orderBy(asc(caseEvents.id)))
    .map((e) => e.type)
    // SLA clock events are covered by the SLA tests.
    .filter((type) => !type.startsWith('sla_'));

async function waitForReply(t: TestCarebot, status?: string) {
  return vi.waitFor(async () => {
    const [row] = await replyRows(t);
    expect(row).toBeDefined();
    if (status) expect(row?.status).toBe(status);
    return row as NonNullable<typeof row>;
  });
}

/** Lets the undo window pass and runs delivery and the Slack sync. */
async function afterWindow(t: TestCarebot) {
  t.clock.advance(seconds(11));
  await deliver(t);
  await sync(t);
}

describe('the conversation loop', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  // The configured PR group exists in the fake, as it would in Slack: every care-team check reads
  // it (to leave PR out), and a missing group is asked again each time.
  beforeEach(() => carebot().slack.usergroupMembers.set('S0PR00001', [PR_PERSON]));

  it("sends the owner's thread reply once, after the undo window, to the right conversation", async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    t.slack.users.set(AGENT, { id: AGENT, name: 'sam', real_name: 'Sam Agent' });
    const { ts } = await say(t, threadTs, AGENT, 'Sorry about that &amp; thanks for waiting! I am on it.');
    const [notice] = await t.slack.waitFor('chat.postEphemeral');
    expect(notice?.params).toMatchObject({ user: AGENT, thread_ts: threadTs });
    expect(String(notice?.params.text)).toContain('Sending to forum in 10 s');
    expect(JSON.stringify(notice?.params.blocks)).toContain('reply_cancel');

    // Inside the window nothing leaves.
    t.clock.advance(seconds(5));
    await deliver(t);
    expect(t.receiver.received).toHaveLength(0);

    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
    const [post] = t.receiver.received;
    expect(post?.verified).toBe(true);
    expect(post?.headers['webhook-id']).toMatch(/^carebot-reply-\d+-[0-9a-z]+$/);
    expect(post?.body).toEqual({
      type: 'reply',
      caseId: 1,
      source: 'forum',
      conversationId: 't-9',
      inReplyTo: 'm-t-9',
      text: 'Sorry about that & thanks for waiting! I am on it.',
      agent: { id: AGENT, name: 'sam' },
    });
    const [reaction] = t.slack.callsTo('reactions.add');
    expect(reaction?.params).toMatchObject({
      channel: CARE_CHANNEL,
      timestamp: ts,
      name: 'white_check_mark',
    });
    const line = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks).includes('Sent to forum'));
    expect(line?.params.thread_ts).toBe(threadTs);
    expect(JSON.stringify(line?.params.blocks)).toContain('<https://forum.example/p/1|View on forum>');
    const lastCard = t.slack.callsTo('chat.update').at(-1);
    expect(JSON.stringify(lastCard?.params.blocks)).toContain('Last reply');
    const outbound = await t.db.db.select().from(messages).where(eq(messages.kind, 'outbound'));
    expect(outbound).toHaveLength(1);
    expect(await eventTypes(t)).toEqual(['opened', 'claimed', 'reply_queued', 'reply_sent']);
  });

  it('sends once when Slack delivers the same event three times', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    const first = await say(t, threadTs, AGENT, 'We are looking into it.', { eventId: 'Ev0SAME0001' });
    await say(t, threadTs, AGENT, 'We are looking into it.', {
      ts: first.ts,
      eventId: 'Ev0SAME0001',
      retryNum: 1,
    });
    await say(t, threadTs, AGENT, 'We are looking into it.', {
      ts: first.ts,
      eventId: 'Ev0SAME0001',
      retryNum: 2,
    });
    await waitForReply(t);
    await t.slack.waitFor('chat.postEphemeral');
    await afterWindow(t);
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
    expect(await replyRows(t)).toHaveLength(1);
    expect(ephemeralsFor(t.slack, AGENT)).toHaveLength(1);
  });

  it("keeps other people's replies and note: replies as internal notes", async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    await say(t, threadTs, OTHER, 'I think this is the courier again');
    const [notice] = await t.slack.waitFor('chat.postEphemeral');
    expect(notice?.params.user).toBe(OTHER);
    expect(String(notice?.params.text)).toBe(
      `Saved as a note; <@${AGENT}> owns this case and answers the customer.`,
    );
    await say(t, threadTs, AGENT, 'NOTE: checked the tracking, parcel is in Leeds');
    await vi.waitFor(async () => {
      const notes = await t.db.db.select().from(messages).where(eq(messages.kind, 'note'));
      expect(notes.map((n) => [n.authorId, n.text])).toEqual([
        [OTHER, 'I think this is the courier again'],
        [AGENT, 'checked the tracking, parcel is in Leeds'],
      ]);
    });
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);
    expect(await replyRows(t)).toHaveLength(0);
  });

  it('lets a care-team member answer an unclaimed case by claiming it, but not someone from PR', async () => {
    const t = carebot();
    t.slack.usergroupMembers.set('S0PR00001', [PR_PERSON]);
    const threadTs = await openCase(t);
    await say(t, threadTs, PR_PERSON, 'We will put out a statement');
    await t.slack.waitFor('chat.postEphemeral');
    const [pending] = await t.db.db.select().from(cases);
    expect(pending?.ownerId).toBeNull();

    await say(t, threadTs, AGENT, 'Hi Jane, I am sorry your order is late. Checking now.');
    await waitForReply(t);
    const [claimed] = await t.db.db.select().from(cases);
    expect(claimed?.ownerId).toBe(AGENT);
    await afterWindow(t);
    expect(t.receiver.received.map((r) => r.body.text)).toEqual([
      'Hi Jane, I am sorry your order is late. Checking now.',
    ]);
    expect(JSON.stringify(t.slack.callsTo('chat.update')[0]?.params.blocks)).toContain(
      `Claimed by <@${AGENT}>`,
    );
  });

  it('holds a reply that sells, and sends it only after Send anyway, logging the override', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    await say(t, threadTs, AGENT, 'So sorry! Use promo code SORRY10 for 10% off your next order.');
    const [held] = await t.slack.waitFor('chat.postEphemeral');
    expect(String(held?.params.text)).toContain('Sounds like selling');
    expect(JSON.stringify(held?.params.blocks)).toContain('reply_send_anyway');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);

    const reply = await waitForReply(t, 'held');
    const responseUrl = t.slack.responseUrl('held');
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'reply_send_anyway',
        value: String(reply.id),
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
        responseUrl,
      }),
    );
    const [replaced] = await t.slack.waitFor('response_url');
    expect(String(replaced?.params.text)).toContain('Sending to forum in 10 s');
    await waitForReply(t, 'pending');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
    const types = await eventTypes(t);
    expect(types).toContain('reply_held');
    expect(types).toContain('reply_overridden');
    const [row] = await replyRows(t);
    expect(row?.overridden).toEqual(['selling']);
  });

  it('sends nothing when the author presses Cancel inside the window', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    await say(t, threadTs, AGENT, 'Oops, wrong thread');
    const reply = await waitForReply(t, 'pending');
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'reply_cancel',
        value: String(reply.id),
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
        responseUrl: t.slack.responseUrl('cancel'),
      }),
    );
    const [answer] = await t.slack.waitFor('response_url');
    expect(String(answer?.params.text)).toContain('Cancelled');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);
    expect((await replyRows(t))[0]?.status).toBe('cancelled');
  });

  it('sends the edited text when the message is edited inside the window, and nothing when it is deleted', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    const first = await say(t, threadTs, AGENT, 'Your parcel arrives tomorow');
    await waitForReply(t, 'pending');
    await postMessageEdit(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: AGENT,
      ts: first.ts,
      text: 'Your parcel arrives tomorrow',
      previousText: 'Your parcel arrives tomorow',
    });
    await vi.waitFor(async () => expect((await replyRows(t))[0]?.text).toBe('Your parcel arrives tomorrow'));
    const second = await say(t, threadTs, AGENT, 'And here is a voucher');
    await vi.waitFor(async () => expect(await replyRows(t)).toHaveLength(2));
    await postMessageDelete(t.url, SIGNING_SECRET, { channel: CARE_CHANNEL, threadTs, ts: second.ts });
    await vi.waitFor(async () => expect((await replyRows(t))[1]?.status).toBe('cancelled'));
    await afterWindow(t);
    expect(t.receiver.received.map((r) => r.body.text)).toEqual(['Your parcel arrives tomorrow']);
  });

  it('retries after a 500 and delivers once', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    t.receiver.answerNext({ status: 500, body: 'oops' });
    await say(t, threadTs, AGENT, 'Looking into it now');
    await waitForReply(t);
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
    const [waiting] = await replyRows(t);
    expect(waiting?.status).toBe('pending');
    expect(waiting?.lastError).toContain('HTTP 500');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(2);
    expect(t.receiver.received[0]?.headers['webhook-id']).toBe(t.receiver.received[1]?.headers['webhook-id']);
    expect((await replyRows(t))[0]?.status).toBe('sent');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(2);
  });

  it('marks a refused reply with ⚠️, says why in the thread, and Retry sends it', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await claim(t, threadTs);
    t.receiver.answerNext({ status: 400, body: '{"error":"topic is locked"}' });
    const { ts } = await say(t, threadTs, AGENT, 'Here is what happened');
    await waitForReply(t);
    await afterWindow(t);
    const [failed] = await replyRows(t);
    expect(failed?.status).toBe('failed');
    expect(t.slack.callsTo('reactions.add')[0]?.params).toMatchObject({ timestamp: ts, name: 'warning' });
    const warning = t.slack
      .callsTo('chat.postMessage')
      .find((c) => String(c.params.text).includes('did not reach'));
    expect(String(warning?.params.text)).toContain('the receiver refused the reply (HTTP 400)');
    expect(String(warning?.params.text)).toContain('topic is locked');
    const retry = blocksOf(warning)
      .find((b) => b.type === 'actions')
      ?.elements?.find((e) => e.action_id === 'reply_retry');
    expect(retry?.value).toBe(String(failed?.id));

    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'reply_retry',
        value: String(failed?.id),
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: tsOf(warning),
      }),
    );
    // Retry makes the reply pending and wakes the delivery job, which may already have sent it.
    await vi.waitFor(async () => expect((await replyRows(t))[0]?.status).not.toBe('failed'));
    await deliver(t);
    // Whichever round takes the reply sends it, once.
    await vi.waitFor(async () => expect((await replyRows(t))[0]?.status).toBe('sent'));
    await deliver(t);
    expect(t.receiver.received).toHaveLength(2);
  });

  it('resolve and reopen update the card; a follow-up on a resolved case reopens it in its thread', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_resolve',
        value: '1',
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    const [resolvedCard] = await t.slack.waitFor('chat.update');
    expect(JSON.stringify(resolvedCard?.params.blocks)).toContain('Resolved');
    expect(
      blocksOf(resolvedCard)
        .find((b) => b.type === 'actions')
        ?.elements?.map((e) => e.action_id),
    ).toEqual(['case_reopen']);

    const follow = await postWebhook(
      t,
      complaint({ id: 'm-2', conversationId: 't-9', text: 'It came broken' }),
    );
    expect(follow.json).toEqual({ caseId: 1, duplicate: false });
    await sync(t);
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    expect(row?.status).toBe('open');
    const inThread = t.slack.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === threadTs);
    expect(JSON.stringify(inThread.at(-1)?.params.blocks)).toContain('It came broken');
    expect(JSON.stringify(t.slack.callsTo('chat.update').at(-1)?.params.blocks)).toContain('Unclaimed');
    expect(await eventTypes(t)).toEqual(['opened', 'resolved', 'reopened', 'customer_message']);
  });

  it('opens a new, linked case when the old one was resolved long ago', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_resolve',
        value: '1',
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    await t.slack.waitFor('chat.update');
    t.clock.advance(seconds(8 * 86_400));
    const follow = await postWebhook(t, complaint({ id: 'm-3', conversationId: 't-9', text: 'Me again' }));
    expect(follow.json).toEqual({ caseId: 2, duplicate: false });
    await sync(t);
    const card = t.slack.callsTo('chat.postMessage').at(-1);
    expect(card?.params.thread_ts).toBeUndefined();
    expect(JSON.stringify(card?.params.blocks)).toContain('Follow-up of case #1');
  });
});
