import { eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { ephemeralsFor } from '../../emulators/slack/events.js';
import { postSlashCommand } from '../../emulators/slack/signing.js';
import { crisisAlerts, incidentCases, incidents, replies, savedReplies } from '../../src/db/schema.js';
import { SIGNING_SECRET, sync, useCarebot } from '../support/carebot.js';
import {
  CRISIS_CHANNEL,
  cardTs,
  complaints,
  crisisConfig,
  postedTo,
  press,
  submit,
} from '../support/crisis.js';

const LEAD = 'U0LEAD0001';
const AGENT = 'U0AGENT001';

describe('incidents', () => {
  const carebot = useCarebot({ CARE_CONFIG: crisisConfig(['watch: false']) });

  async function openByCommand(t: ReturnType<typeof carebot>, title: string) {
    const before = t.slack.callsTo('response_url').length;
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care',
      text: `incident open ${title}`,
      user_id: LEAD,
      response_url: t.slack.responseUrl('incident'),
    });
    const answers = await t.slack.waitFor('response_url', before + 1);
    return answers[before]?.params.text as string;
  }

  it('/care incident open makes an incident with its own message; the card links a case to it', async () => {
    const t = carebot();
    await complaints(t, 1, 'Checkout is down', 'early');
    await sync(t);
    const answer = await openByCommand(t, '"Checkout outage"');
    expect(answer).toContain('Opened incident #1 “Checkout outage”');
    const [incident] = await t.db.db.select().from(incidents);
    expect(incident).toMatchObject({ title: 'Checkout outage', leadId: LEAD, status: 'investigating' });
    await sync(t);
    const [message] = postedTo(t, CRISIS_CHANNEL);
    expect(JSON.stringify(message?.params.blocks)).toContain('Incident #1: Checkout outage');

    // A case posted while the incident is open has the Link button.
    await complaints(t, 1, 'I was charged but got no order', 'later');
    await sync(t);
    const card = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.metadata ?? {}).includes('"case_id":2'));
    expect(JSON.stringify(card?.params.blocks)).toContain('case_link_incident');
    await press(t, 'case_link_incident', '2', AGENT, { ts: cardTs(t, 2) });
    await t.slack.waitFor('chat.postEphemeral');
    expect(ephemeralsFor(t.slack, AGENT).at(-1)?.params.text).toContain(
      'Case #2 is now part of incident #1 “Checkout outage”',
    );
    await sync(t);
    const cardUpdate = t.slack.callsTo('chat.update').find((c) => c.params.ts === cardTs(t, 2));
    expect(JSON.stringify(cardUpdate?.params.blocks)).toContain('Incident #1: Checkout outage');
    expect(JSON.stringify(cardUpdate?.params.blocks)).not.toContain('case_link_incident');
    const incidentUpdate = t.slack.callsTo('chat.update').find((c) => c.params.ts === message?.response?.ts);
    expect(JSON.stringify(incidentUpdate?.params.blocks)).toContain('1 linked case (1 open: 1 on forum)');

    // Pressing again says so; nothing changes.
    await press(t, 'case_link_incident', '2', AGENT, { ts: cardTs(t, 2) });
    await t.slack.waitFor('chat.postEphemeral', 2);
    expect(ephemeralsFor(t.slack, AGENT).at(-1)?.params.text).toContain('already part of incident #1');
    expect(await t.db.db.select().from(incidentCases)).toHaveLength(1);
  });

  it('keywords link matching open cases, the statement is a saved reply, and resolving prompts the lead', async () => {
    const t = carebot();
    const [saved] = await t.db.db
      .insert(savedReplies)
      .values({
        title: 'Checkout holding',
        text: 'Hi {first_name}, we know checkout is failing and are fixing it.',
        createdBy: LEAD,
        createdAt: t.clock.now(),
        updatedAt: t.clock.now(),
      })
      .returning();
    await openByCommand(t, 'Checkout outage');
    await complaints(t, 3, 'Checkout fails with error 502', 'match');
    await complaints(t, 2, 'Where is my parcel?', 'other');
    await submit(t, 'incident_edit_submit', LEAD, '1', {
      incident_lead: { lead: { type: 'users_select', selected_user: LEAD } },
      incident_status: {
        status: { type: 'static_select', selected_option: { value: 'identified' } },
      },
      incident_statement: {
        statement: { type: 'static_select', selected_option: { value: String(saved?.id) } },
      },
      incident_keywords: { keywords: 'Checkout, payment failed' },
    });
    const [edited] = await t.db.db.select().from(incidents);
    expect(edited).toMatchObject({
      status: 'identified',
      savedReplyId: saved?.id,
      keywords: ['checkout', 'payment failed'],
    });

    await t.carebot.crisisWatch.runOnce();
    const linked = await t.db.db.select().from(incidentCases).orderBy(incidentCases.caseId);
    expect(linked.map((l) => [l.caseId, l.linkedBy])).toEqual([
      [1, 'carebot'],
      [2, 'carebot'],
      [3, 'carebot'],
    ]);
    // A second round links nothing new and says nothing.
    await t.carebot.crisisWatch.runOnce();
    await sync(t);
    const parent = postedTo(t, CRISIS_CHANNEL).find((c) => String(c.params.text).startsWith('Incident #1'));
    const inThread = postedTo(t, CRISIS_CHANNEL).filter((c) => c.params.thread_ts === parent?.response?.ts);
    expect(inThread.map((c) => c.params.text)).toEqual([
      '🔗 Linked 3 cases by keywords: #1, #2, #3.'.replace('🔗', ':link:'),
    ]);
    const latest = t.slack
      .callsTo('chat.update')
      .filter((c) => c.params.ts === parent?.response?.ts)
      .at(-1);
    expect(JSON.stringify(latest?.params.blocks)).toContain('we know checkout is failing');

    await press(t, 'incident_resolve', '1', AGENT, {
      channel: CRISIS_CHANNEL,
      ts: String(parent?.response?.ts),
    });
    await vi.waitFor(async () => {
      const [row] = await t.db.db.select().from(incidents);
      expect(row?.status).toBe('resolved');
    });
    await sync(t);
    const prompt = postedTo(t, CRISIS_CHANNEL).find((c) => String(c.params.text).includes('is resolved'));
    expect(prompt?.params.thread_ts).toBe(parent?.response?.ts);
    expect(prompt?.params.text).toContain(`<@${LEAD}> incident #1 is resolved`);
    expect(prompt?.params.text).toContain('3 open: 3 on forum');
    expect(JSON.stringify(prompt?.params.blocks)).toContain('incident_send_statement');
    const [resolved] = await t.db.db.select().from(incidents);
    expect(resolved?.status).toBe('resolved');

    // Send follow-up: the same review, blank, to every linked customer whose case is still open.
    await press(t, 'incident_send_statement', '1', LEAD, {
      channel: CRISIS_CHANNEL,
      ts: String(parent?.response?.ts),
    });
    const [open] = await t.slack.waitFor('views.open');
    const modal = JSON.stringify(open?.params.view);
    expect(modal).toContain('Follow-up');
    expect(modal).toContain('Goes to 3 customers: 3 on forum');
    expect(modal).not.toContain('initial_value');
    await submit(t, 'incident_statement_submit', LEAD, '1', {
      statement_text: { text: 'Fixed now, {first_name}. Thanks for waiting!' },
    });
    await vi.waitFor(async () => expect(await t.db.db.select().from(replies)).toHaveLength(3));
    const followUps = await t.db.db.select().from(replies);
    expect(followUps.map((r) => r.text)).toEqual(Array(3).fill('Fixed now, Customer. Thanks for waiting!'));
    expect(followUps.every((r) => r.authorId === LEAD && r.status === 'pending')).toBe(true);
  });

  it('with two incidents open, the card asks which one', async () => {
    const t = carebot();
    await openByCommand(t, 'Checkout outage');
    await openByCommand(t, 'Login fails');
    await complaints(t, 1, 'I cannot log in', 'login');
    await sync(t);
    await press(t, 'case_link_incident', '1', AGENT, { ts: cardTs(t, 1) });
    const [open] = await t.slack.waitFor('views.open');
    const view = open?.params.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('incident_link_submit');
    expect(JSON.stringify(open?.params.view)).toContain('#2 Login fails');
    await submit(t, view.callback_id, AGENT, view.private_metadata, {
      incident_pick: { incident: { type: 'static_select', selected_option: { value: '2' } } },
    });
    await t.slack.waitFor('chat.postEphemeral');
    expect(ephemeralsFor(t.slack, AGENT).at(-1)?.params).toMatchObject({
      channel: 'C0CARE0001',
      text: 'Case #1 is now part of incident #2 “Login fails”.',
    });
    expect(await t.db.db.select().from(incidentCases)).toMatchObject([
      { incidentId: 2, caseId: 1, linkedBy: AGENT },
    ]);
  });

  it("the alert's button opens one incident for the alert, however often it is pressed", async () => {
    const t = carebot();
    const [alert] = await t.db.db
      .insert(crisisAlerts)
      .values({
        kind: 'spike',
        scope: 'spike:x',
        platform: 'x',
        openedAt: t.clock.now(),
        lastAboveAt: t.clock.now(),
        count: 40,
        baseline: 5,
        peakCount: 40,
        terms: ['checkout', 'declined', 'card', 'error'],
      })
      .returning();
    await press(t, 'crisis_open_incident', String(alert?.id), LEAD, { channel: CRISIS_CHANNEL });
    await t.slack.waitFor('chat.postEphemeral');
    await press(t, 'crisis_open_incident', String(alert?.id), AGENT, { channel: CRISIS_CHANNEL });
    await t.slack.waitFor('chat.postEphemeral', 2);
    const rows = await t.db.db.select().from(incidents);
    expect(rows).toMatchObject([
      { title: 'Spike on X', leadId: LEAD, alertId: alert?.id, keywords: ['checkout', 'declined', 'card'] },
    ]);
    expect(ephemeralsFor(t.slack, AGENT).at(-1)?.params.text).toContain('already open for this alert');
    const [updated] = await t.db.db
      .select()
      .from(crisisAlerts)
      .where(eq(crisisAlerts.id, alert?.id ?? 0));
    expect(updated?.incidentId).toBe(rows[0]?.id);
  });
});
