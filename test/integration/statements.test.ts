import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ephemeralsFor } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction, postSlashCommand } from '../../emulators/slack/signing.js';
import { seconds } from '../../src/care/clock.js';
import { caseEvents, incidentCases, replies, savedReplies } from '../../src/db/schema.js';
import {
  complaint,
  deliver,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  useCarebot,
} from '../support/carebot.js';
import { CRISIS_CHANNEL, complaints, crisisConfig, postedTo, press, submit } from '../support/crisis.js';

const LEAD = 'U0LEAD0001';
const STATEMENT =
  'Hi {first_name}, checkout is failing for some customers. We are fixing it and will update you here.';

/**
 * 50 linked forum cases, plus one whose customer name makes the filled statement too long for the
 * forum's limit (so the tone check holds it), and an incident led by LEAD with the statement.
 */
async function stormWithIncident(t: TestCarebot): Promise<void> {
  await complaints(t, 50, 'Checkout fails at payment', 'storm');
  const longName = `Jo${'h'.repeat(150)}`;
  await postWebhook(
    t,
    complaint({
      id: 'long-0',
      conversationId: 'long-0',
      text: 'Checkout broken for me too',
      author: { id: 'long', name: longName, handle: 'long' },
    }),
  );
  await sync(t);
  const [saved] = await t.db.db
    .insert(savedReplies)
    .values({
      title: 'Checkout holding',
      text: STATEMENT,
      createdBy: LEAD,
      createdAt: t.clock.now(),
      updatedAt: t.clock.now(),
    })
    .returning();
  await postSlashCommand(t.url, SIGNING_SECRET, {
    command: '/care',
    text: 'incident open "Checkout outage"',
    user_id: LEAD,
    response_url: t.slack.responseUrl('incident'),
  });
  await t.slack.waitFor('response_url');
  await submit(t, 'incident_edit_submit', LEAD, '1', {
    incident_lead: { lead: { type: 'users_select', selected_user: LEAD } },
    incident_status: { status: { type: 'static_select', selected_option: { value: 'identified' } } },
    incident_statement: {
      statement: { type: 'static_select', selected_option: { value: String(saved?.id) } },
    },
    incident_keywords: { keywords: 'checkout' },
  });
  await t.carebot.crisisWatch.runOnce();
  expect(await t.db.db.select().from(incidentCases)).toHaveLength(51);
  await sync(t);
}

/** The lead opens the preview and sends; returns the modal and the undo notice. */
async function leadSends(t: TestCarebot) {
  const parent = postedTo(t, CRISIS_CHANNEL).find((c) => String(c.params.text).startsWith('Incident #1'));
  await press(t, 'incident_send_statement', '1', LEAD, {
    channel: CRISIS_CHANNEL,
    ts: String(parent?.response?.ts),
  });
  const [open] = await t.slack.waitFor('views.open');
  const modal = open?.params.view as { callback_id: string; submit: { text: string } };
  await submit(t, modal.callback_id, LEAD, '1', { statement_text: { text: STATEMENT } }, 'V0STATEMENT1');
  await t.slack.waitFor('chat.postEphemeral');
  const notice = ephemeralsFor(t.slack, LEAD).at(-1);
  return { modal, notice, parent };
}

function cancelAll(t: TestCarebot, batchId: string) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'statement_cancel',
      value: batchId,
      userId: LEAD,
      channelId: CRISIS_CHANNEL,
      messageTs: '1764000000.000200',
      responseUrl: t.slack.responseUrl('cancel'),
    }),
  );
}

// The 50-case tests post 51 cards and 50 ✅ through the fake Slack: a generous budget for a busy
// machine (nothing in them is timed).
describe('incident statement to every linked case', () => {
  const carebot = useCarebot({
    CARE_CONFIG: crisisConfig(
      ['watch: false', 'statement_per_minute: 20'],
      ['tone: { max_length: { webhook: 200 } }'],
    ),
  });

  it('50 linked cases get 50 deliveries, each once, paced and held back by a rate limit', async () => {
    const t = carebot();
    await stormWithIncident(t);
    const { modal, notice, parent } = await leadSends(t);
    const preview = JSON.stringify(modal);
    expect(preview).toContain('Goes to 50 customers: 50 on forum');
    expect(preview).toContain('#51 (');
    expect(modal.submit.text).toBe('Send to 50');
    expect(notice?.params.text).toContain('Sending to 50 customers: 50 on forum in 10 s');
    expect(notice?.params.thread_ts).toBe(parent?.response?.ts);
    expect(JSON.stringify(notice?.params.blocks)).toContain('statement_cancel');

    // A resubmitted modal sends nothing twice.
    await submit(
      t,
      'incident_statement_submit',
      LEAD,
      '1',
      { statement_text: { text: STATEMENT } },
      'V0STATEMENT1',
    );
    const queued = await t.db.db.select().from(replies).orderBy(replies.caseId);
    expect(queued).toHaveLength(50);
    expect(new Set(queued.map((r) => r.caseId)).size).toBe(50);
    expect(queued[0]?.text).toBe(
      'Hi Customer, checkout is failing for some customers. We are fixing it and will update you here.',
    );

    // The receiver refuses the fifth send with a 429: wait 30 s.
    const ok = { status: 200, body: '{}' };
    t.receiver.answerNext(ok, ok, ok, ok, { status: 429, headers: { 'retry-after': '30' } });
    const start = t.clock.now().getTime();
    const sends: number[] = [];
    for (let step = 0; step < 120 && sends.length < 51; step++) {
      t.clock.advance(seconds(3));
      const before = t.receiver.received.length;
      await deliver(t);
      for (let i = before; i < t.receiver.received.length; i++) sends.push(t.clock.now().getTime() - start);
    }
    expect(sends).toHaveLength(51);
    // Nothing went out during the undo window, nothing while the receiver said to wait, and never
    // more than 20 in a minute.
    expect(Math.min(...sends)).toBeGreaterThanOrEqual(10_000);
    const refusedAt = sends[4] as number;
    expect(sends.filter((at) => at > refusedAt && at < refusedAt + 30_000)).toEqual([]);
    for (const at of sends)
      expect(sends.filter((x) => x >= at && x < at + 60_000).length).toBeLessThanOrEqual(20);
    const delivered = t.receiver.received.slice(0, 51).filter((_, i) => i !== 4);
    expect(new Set(delivered.map((r) => r.body.caseId)).size).toBe(50);
    const rows = await t.db.db.select().from(replies);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    // Logged per case, and the ✅ in each case thread quotes what was sent.
    const sent = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'reply_sent'));
    expect(sent).toHaveLength(50);
    await sync(t);
    const ticks = t.slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.params.text).startsWith('Sent to forum'));
    expect(ticks).toHaveLength(50);
    expect(JSON.stringify(ticks[0]?.params.blocks)).toContain('checkout is failing');
    const note = postedTo(t, CRISIS_CHANNEL).find((c) =>
      String(c.params.text).includes('is sending this to 50'),
    );
    expect(note?.params.thread_ts).toBe(parent?.response?.ts);

    // /care-stats lists the incident with its cases and how fast they were answered.
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care-stats',
      text: 'today',
      user_id: LEAD,
      response_url: t.slack.responseUrl('stats'),
    });
    const answers = await t.slack.waitFor('response_url', 2);
    const stats = JSON.stringify(answers.at(-1)?.params.blocks);
    expect(stats).toMatch(
      /#1 Checkout outage: 51 cases, 50 answered, first answer \d+m \(median\) · statement out 12s after opening \(50 customers\) · identified/,
    );
  }, 60_000);

  it('Cancel inside the undo window stops all 50', async () => {
    const t = carebot();
    await stormWithIncident(t);
    const { notice } = await leadSends(t);
    const batchId = JSON.stringify(notice?.params.blocks).match(/"value":"(\d+)"/)?.[1] ?? '';
    t.clock.advance(seconds(5));
    await cancelAll(t, batchId);
    const [answer] = await t.slack.waitFor('response_url', 2);
    const cancelAnswer = t.slack.callsTo('response_url').at(-1);
    expect(answer).toBeDefined();
    expect(cancelAnswer?.params.text).toBe('Cancelled: none of the 50 replies went out.');
    t.clock.advance(seconds(600));
    await deliver(t);
    expect(t.receiver.received).toHaveLength(0);
    const rows = await t.db.db.select().from(replies);
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => r.status === 'cancelled')).toBe(true);
    const cancelled = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'reply_cancelled'));
    expect(cancelled).toHaveLength(50);
  }, 60_000);

  it('only the lead sends the statement', async () => {
    const t = carebot();
    await complaints(t, 1, 'Checkout fails', 'one');
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care',
      text: 'incident open Checkout',
      user_id: LEAD,
      response_url: t.slack.responseUrl('incident'),
    });
    await t.slack.waitFor('response_url');
    // The press comes from the incident's own message (a click elsewhere is refused before this).
    await sync(t);
    const parent = postedTo(t, CRISIS_CHANNEL).find((c) => String(c.params.text).startsWith('Incident #1'));
    await press(t, 'incident_send_statement', '1', 'U0OTHER001', {
      channel: CRISIS_CHANNEL,
      ts: String(parent?.response?.ts),
    });
    await t.slack.waitFor('chat.postEphemeral');
    expect(ephemeralsFor(t.slack, 'U0OTHER001').at(-1)?.params.text).toContain(
      `Only the incident's lead, <@${LEAD}>, sends its statement`,
    );
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
  });
});
