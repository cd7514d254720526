import { Writable } from 'node:stream';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction, postSlashCommand } from '../../emulators/slack/signing.js';
import {
  cases,
  incidentCases,
  incidentEvents,
  incidents,
  replies,
  savedReplies,
  statementBatches,
} from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { startCarebot } from '../../src/main.js';
import {
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';
import { CRISIS_CHANNEL, cardTs, crisisConfig, postedTo, press, submit } from '../support/crisis.js';

// Each test uses its own people: carebot caches what Slack says of a person for a few minutes.
const CARE = 'S0CARE0001';
const MANAGERS = 'S0MGRS0001';
const PR = 'S0PR000001';
const OTHER_ORG = 'T0OTHERORG';

const config = crisisConfig(
  ['statement_per_minute: 60'],
  [
    `care_team_usergroup: ${CARE}`,
    `managers_usergroup: ${MANAGERS}`,
    'teams:',
    `  - { key: pr, name: PR, usergroup: ${PR} }`,
  ],
);

/**
 * Everyone's groups, the same in every test of the file: carebot caches a group's members for a few
 * minutes, so a test cannot change them. Each test uses its own people.
 */
function groups(t: TestCarebot) {
  t.slack.usergroupMembers.set(CARE, [
    'U0LEADA001',
    'U0LEADB001',
    'U0AGENTB01',
    'U0AGENTC01',
    'U0GUESTD01',
    'U0EXTD0001',
    'U0EXTD0002',
    'U0AGENTF01',
  ]);
  t.slack.usergroupMembers.set(MANAGERS, ['U0MGRB0001', 'U0MGRC0001']);
  t.slack.usergroupMembers.set(PR, []);
}

async function openCase(t: TestCarebot, id: string): Promise<string> {
  await postWebhook(t, complaint({ id, conversationId: id }));
  await sync(t);
  return tsOf(t.slack.callsTo('chat.postMessage').at(-1));
}

async function openIncident(t: TestCarebot, lead: string) {
  const res = await postSlashCommand(t.url, SIGNING_SECRET, {
    command: '/care',
    text: 'incident open "Checkout outage"',
    user_id: lead,
    response_url: t.slack.responseUrl('incident'),
  });
  expect(res.status).toBe(200);
  await eventually(async () => expect(await t.db.db.select().from(incidents)).toHaveLength(1));
  await sync(t);
  const parent = postedTo(t, CRISIS_CHANNEL).find((c) => String(c.params.text).startsWith('Incident #1'));
  return tsOf(parent);
}

function editIncident(t: TestCarebot, userId: string, lead: string) {
  return submit(t, 'incident_edit_submit', userId, '1', {
    incident_lead: { lead: { type: 'users_select', selected_user: lead } },
    incident_status: { status: { type: 'static_select', selected_option: { value: 'identified' } } },
    incident_keywords: { keywords: 'checkout' },
  });
}

function sendStatement(t: TestCarebot, userId: string, viewId: string) {
  return submit(
    t,
    'incident_statement_submit',
    userId,
    '1',
    { statement_text: { text: 'We are on it, sorry.' } },
    viewId,
  );
}

/** Waits for what carebot does after acknowledging; generous, for a busy machine. */
const eventually = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

// The texts are spelt out (not imported) so that this file runs, and fails, against older code too.
const LOOKUP_FAILED_TEXT =
  'Could not check your permissions (Slack did not answer); nothing was done. Try again in a moment.';
const WRONG_PLACE_TEXT =
  'That button does not belong to the message it was pressed on, so nothing was done. Use the buttons on the case card or the incident message itself.';

const errorsOf = (res: { json?: unknown }) =>
  JSON.stringify((res.json as { errors?: unknown } | undefined)?.errors ?? {});

describe('permissions (care team set)', () => {
  const carebot = useCarebot({ CARE_CONFIG: config });

  it('someone off the care team cannot open an incident, make themselves lead, or send the statement', async () => {
    const t = carebot();
    const lead = 'U0LEADA001';
    const outsider = 'U0SALESA01';
    groups(t);

    // Open: refused, nothing created.
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care',
      text: 'incident open "Fake outage"',
      user_id: outsider,
      response_url: t.slack.responseUrl('outsider'),
    });
    const [answer] = await t.slack.waitFor('response_url');
    expect(String(answer?.params.text)).toContain('Only the care team and the managers');
    expect(await t.db.db.select().from(incidents)).toHaveLength(0);

    const parentTs = await openIncident(t, lead);
    // Lead through the Edit modal: refused, the lead stays.
    const edit = await editIncident(t, outsider, outsider);
    expect(errorsOf(edit)).toContain('Only the care team and the managers');
    expect((await t.db.db.select().from(incidents))[0]?.leadId).toBe(lead);
    // Nor can the care team hand the lead to them.
    const handOver = await editIncident(t, lead, outsider);
    expect(errorsOf(handOver)).toContain('The lead must be on the care team or a manager');
    expect((await t.db.db.select().from(incidents))[0]?.leadId).toBe(lead);

    // Send: neither the button nor a submitted modal.
    await press(t, 'incident_send_statement', '1', outsider, { channel: CRISIS_CHANNEL, ts: parentTs });
    await eventually(() => expect(ephemeralsFor(t.slack, outsider)).toHaveLength(1));
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    const send = await sendStatement(t, outsider, 'V0FORGED001');
    expect(errorsOf(send)).toContain("Only the incident's lead");
    expect(await t.db.db.select().from(statementBatches)).toHaveLength(0);
  });

  it('only the lead sends, even from the care team; lead changes and sends are in the event log', async () => {
    const t = carebot();
    const lead = 'U0LEADB001';
    const agent = 'U0AGENTB01';
    const manager = 'U0MGRB0001';
    groups(t);
    await openCase(t, 'b1');
    const parentTs = await openIncident(t, lead);
    await press(t, 'case_link_incident', '1', agent, { ts: cardTs(t, 1) });
    await eventually(async () => expect(await t.db.db.select().from(incidentCases)).toHaveLength(1));

    const notLead = await sendStatement(t, agent, 'V0NOTLEAD01');
    expect(errorsOf(notLead)).toContain("Only the incident's lead");
    expect(await t.db.db.select().from(statementBatches)).toHaveLength(0);

    // A manager hands the lead to the agent, who sends.
    const edit = await editIncident(t, manager, agent);
    expect(edit.status).toBe(200);
    expect(errorsOf(edit)).toBe('{}');
    expect((await t.db.db.select().from(incidents))[0]?.leadId).toBe(agent);
    await press(t, 'incident_send_statement', '1', agent, { channel: CRISIS_CHANNEL, ts: parentTs });
    await t.slack.waitFor('views.open');
    const sent = await sendStatement(t, agent, 'V0SENDB0001');
    expect(errorsOf(sent)).toBe('{}');
    await eventually(async () => expect(await t.db.db.select().from(statementBatches)).toHaveLength(1));
    // The send ends with the lead's undo notice (after the link's answer): nothing left in flight.
    await eventually(() => expect(ephemeralsFor(t.slack, agent)).toHaveLength(2));

    const log = await t.db.db.select().from(incidentEvents).orderBy(asc(incidentEvents.id));
    expect(log.map((e) => [e.type, e.actor, e.data])).toEqual([
      ['opened', lead, { lead }],
      ['lead_changed', manager, { from: lead, to: agent }],
      ['statement_sent', agent, expect.objectContaining({ batchId: 1, cases: 1 })],
    ]);
  });

  it('only managers add, change or delete saved replies', async () => {
    const t = carebot();
    const agent = 'U0AGENTC01';
    const manager = 'U0MGRC0001';
    groups(t);
    const [saved] = await t.db.db
      .insert(savedReplies)
      .values({
        title: 'Late parcel',
        text: 'Sorry {first_name}',
        createdBy: manager,
        createdAt: t.clock.now(),
        updatedAt: t.clock.now(),
      })
      .returning();
    const id = String(saved?.id);
    const inModal = (actionId: string, value: string, userId: string) => {
      const payload = blockActionPayload({ actionId, value, userId, channelId: 'x', messageTs: 'x' });
      const { channel: _c, message: _m, ...rest } = payload;
      return postSlackInteraction(t.url, SIGNING_SECRET, {
        ...rest,
        container: { type: 'view', view_id: 'V0SAVED0001' },
        view: {
          id: 'V0SAVED0001',
          type: 'modal',
          callback_id: 'saved_replies',
          hash: 'h',
          private_metadata: '',
        },
      });
    };
    await inModal('saved_reply_add', '', agent);
    await inModal('saved_reply_edit', id, agent);
    await inModal('saved_reply_delete', id, agent);
    await eventually(() =>
      expect(t.slack.callsTo('chat.postMessage').filter((c) => c.params.channel === agent)).toHaveLength(3),
    );
    expect(t.slack.callsTo('views.push')).toHaveLength(0);
    expect(t.slack.callsTo('views.update')).toHaveLength(0);
    const saveAs = (userId: string, meta: string, title: string) =>
      submit(t, 'saved_reply_save', userId, meta, {
        saved_title: { title },
        saved_text: { text: 'Changed text' },
      });
    expect(errorsOf(await saveAs(agent, id, 'Hijacked'))).toContain('Only the care managers');
    expect(errorsOf(await saveAs(agent, '', 'New one'))).toContain('Only the care managers');
    expect((await t.db.db.select().from(savedReplies)).map((r) => [r.title, r.text])).toEqual([
      ['Late parcel', 'Sorry {first_name}'],
    ]);

    // A manager may.
    expect(errorsOf(await saveAs(manager, id, 'Late parcel'))).toBe('{}');
    expect((await t.db.db.select().from(savedReplies))[0]?.text).toBe('Changed text');
    await inModal('saved_reply_add', '', manager);
    await t.slack.waitFor('views.push');
  });

  it('guests and Slack Connect users cannot claim, reply or send, whatever their groups', async () => {
    const t = carebot();
    const guest = 'U0GUESTD01';
    const external = 'U0EXTD0001';
    const viaPayload = 'U0EXTD0002';
    groups(t);
    t.slack.users.set(guest, { id: guest, name: 'guest', is_restricted: true });
    t.slack.users.set(external, { id: external, name: 'partner', team_id: OTHER_ORG });
    const threadTs = await openCase(t, 'd1');

    // Claim from the card.
    await press(t, 'case_claim', '1', guest, { ts: threadTs });
    await eventually(() => expect(ephemeralsFor(t.slack, guest)).toHaveLength(1));
    expect(String(ephemeralsFor(t.slack, guest)[0]?.params.text)).toContain('Only the care team can claim');
    // Slack Connect, told by users.info or by the payload's team.
    await press(t, 'case_claim', '1', external, { ts: threadTs });
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_claim',
        value: '1',
        userId: viaPayload,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
        teamId: OTHER_ORG,
      }),
    );
    await eventually(() => expect(ephemeralsFor(t.slack, external)).toHaveLength(1));
    await eventually(() => expect(ephemeralsFor(t.slack, viaPayload)).toHaveLength(1));
    expect((await t.db.db.select().from(cases))[0]?.ownerId).toBeNull();

    // A reply in the thread stays a note and claims nothing.
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: external,
      text: 'Our partner answer, straight to the customer',
    });
    await eventually(() => expect(ephemeralsFor(t.slack, external)).toHaveLength(2));
    expect((await t.db.db.select().from(cases))[0]?.ownerId).toBeNull();

    // Even as the owner (made a guest after claiming), nothing they write reaches the customer.
    await t.db.db.update(cases).set({ ownerId: guest }).where(eq(cases.id, 1));
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: guest,
      text: 'Hello from a guest',
    });
    await eventually(() => expect(ephemeralsFor(t.slack, guest)).toHaveLength(2));
    expect(String(ephemeralsFor(t.slack, guest)[1]?.params.text)).toContain('not sent to the customer');
    const modal = await submit(t, 'case_reply_submit', guest, JSON.stringify({ caseId: 1 }), {
      'reply_text:0': { text: 'Hello again' },
    });
    expect(errorsOf(modal)).toContain('Only the care team answers customers');
    expect(await t.db.db.select().from(replies)).toHaveLength(0);
  });

  it('a button carrying another case id is refused; the same click on that case card works', async () => {
    const t = carebot();
    const agent = 'U0AGENTF01';
    groups(t);
    const firstTs = await openCase(t, 'f1');
    const secondTs = await openCase(t, 'f2');
    // A click on case 1's card that names case 2.
    await press(t, 'case_claim', '2', agent, { ts: firstTs });
    await press(t, 'case_resolve', '2', agent, { ts: firstTs });
    await eventually(() => expect(ephemeralsFor(t.slack, agent)).toHaveLength(2));
    expect(ephemeralsFor(t.slack, agent).map((c) => c.params.text)).toEqual([
      WRONG_PLACE_TEXT,
      WRONG_PLACE_TEXT,
    ]);
    // And one from another channel naming a real card's ts.
    await press(t, 'case_claim', '2', agent, { channel: 'C0ELSEWHERE', ts: secondTs });
    await eventually(() => expect(ephemeralsFor(t.slack, agent)).toHaveLength(3));
    const rows = await t.db.db.select().from(cases).orderBy(asc(cases.id));
    expect(rows.map((r) => [r.ownerId, r.status])).toEqual([
      [null, 'open'],
      [null, 'open'],
    ]);

    await press(t, 'case_claim', '2', agent, { ts: secondTs });
    await eventually(async () =>
      expect((await t.db.db.select().from(cases).where(eq(cases.id, 2)))[0]?.ownerId).toBe(agent),
    );
    // From the App Home, where the person's cases are listed.
    const home = blockActionPayload({
      actionId: 'case_claim',
      value: '1',
      userId: agent,
      channelId: 'x',
      messageTs: 'x',
    });
    const { channel: _c, message: _m, ...rest } = home;
    await postSlackInteraction(t.url, SIGNING_SECRET, {
      ...rest,
      container: { type: 'view', view_id: 'V0HOME0001' },
      view: { id: 'V0HOME0001', type: 'home', callback_id: '', hash: 'h', private_metadata: '' },
    });
    await eventually(async () =>
      expect((await t.db.db.select().from(cases).where(eq(cases.id, 1)))[0]?.ownerId).toBe(agent),
    );
  });
});

describe('permissions (no care-team group)', () => {
  const carebot = useCarebot({
    CARE_CONFIG: crisisConfig([], ['teams:', `  - { key: pr, name: PR, usergroup: ${PR} }`]),
  });

  it('a PR member is not care team when their group cannot be read: refused, with "could not check"', async () => {
    const t = carebot();
    const prPerson = 'U0PRG00001';
    t.slack.usergroupMembers.set(PR, [prPerson]);
    // HTTP 500 on every try (the client retries twice).
    t.slack.failNext('usergroups.users.list', { status: 500, times: 20 });
    const threadTs = await openCase(t, 'g1');
    await press(t, 'case_claim', '1', prPerson, { ts: threadTs });
    await eventually(() => expect(ephemeralsFor(t.slack, prPerson)).toHaveLength(1));
    expect(ephemeralsFor(t.slack, prPerson)[0]?.params.text).toBe(LOOKUP_FAILED_TEXT);
    // A reply in the thread is kept as a note and claims nothing.
    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: prPerson,
      text: 'We will refund you',
    });
    await eventually(() => expect(ephemeralsFor(t.slack, prPerson)).toHaveLength(2));
    expect(String(ephemeralsFor(t.slack, prPerson)[1]?.params.text)).toContain(LOOKUP_FAILED_TEXT);
    expect((await t.db.db.select().from(cases))[0]?.ownerId).toBeNull();
    expect(await t.db.db.select().from(replies)).toHaveLength(0);
  });

  it('start-up warns that every full member of the workspace may answer customers', async () => {
    const t = carebot();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    // A second carebot on the same database (which it leaves open), just to read its start-up log.
    const second = await startCarebot({
      config: t.config,
      clock: t.clock,
      database: t.db,
      logger: createLogger('info', sink),
      schedule: false,
    });
    await second.stop();
    const warning = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.msg.includes('care_team_usergroup is not set'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('every full member of the workspace');
  });

  it('/care says that every full member of the workspace may answer customers', async () => {
    const t = carebot();
    const res = await postSlashCommand(t.url, SIGNING_SECRET, { command: '/care', text: '' });
    expect(JSON.stringify(res.json)).toContain('No care-team user group is set');
  });
});

describe('permissions (care-team group unreadable)', () => {
  const carebot = useCarebot({
    CARE_CONFIG: crisisConfig([], ['care_team_usergroup: S0CAREH001']),
  });

  it('Slack answering ok:false to usergroups.users.list refuses the care team member with "could not check"', async () => {
    const t = carebot();
    const agent = 'U0AGENTH01';
    t.slack.usergroupMembers.set('S0CAREH001', [agent]);
    t.slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    const threadTs = await openCase(t, 'h1');
    await press(t, 'case_claim', '1', agent, { ts: threadTs });
    await eventually(() => expect(ephemeralsFor(t.slack, agent)).toHaveLength(1));
    expect(ephemeralsFor(t.slack, agent)[0]?.params.text).toBe(LOOKUP_FAILED_TEXT);
    expect((await t.db.db.select().from(cases))[0]?.ownerId).toBeNull();
    // Slack answers again: the same click works (a failure is not cached).
    await press(t, 'case_claim', '1', agent, { ts: threadTs });
    await t.slack.waitFor('usergroups.users.list');
    await eventually(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(agent));
  });
});
