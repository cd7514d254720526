import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import {
  blockActionPayload,
  eventCallbackEnvelope,
  postSlackEvent,
  postSlackInteraction,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { hours, minutes } from '../../src/care/clock.js';
import { caseEvents, cases, escalations } from '../../src/db/schema.js';
import {
  blocksOf,
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-esc-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'care_team_usergroup: S0CARE0001',
    'teams:',
    '  - { key: pr, name: PR, usergroup: S0PR00001, ack_within: 30m }',
    '  - { key: legal, name: Legal, users: [U0LEGAL001] }',
    'sla:',
    '  priorities: { P1: { first_response: 15m } }',
    'escalation:',
    '  update_every: 4h',
    '  rules:',
    '    - { when: followers, over: 50000, priority: P1, team: pr }',
    '    - { when: keywords, keywords: [lawyer, lawsuit], team: legal }',
    '    - { when: negative, below: -6, priority: P2 }',
  ].join('\n'),
);

const AGENT = 'U0AGENT001';
const AGENT2 = 'U0AGENT002';
const PR1 = 'U0PR000001';
const _LEGAL = 'U0LEGAL001';

function members(t: TestCarebot) {
  t.slack.usergroupMembers.set('S0CARE0001', [AGENT, AGENT2]);
  t.slack.usergroupMembers.set('S0PR00001', [PR1]);
}

async function openClaimed(t: TestCarebot, overrides: Record<string, unknown> = {}) {
  await postWebhook(t, complaint({ id: 'm1', conversationId: 'c1', ...overrides }));
  await sync(t);
  const threadTs = tsOf(t.slack.callsTo('chat.postMessage')[0]);
  await click(t, 'case_claim', '1', AGENT, threadTs);
  await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(AGENT));
  return threadTs;
}

function click(
  t: TestCarebot,
  actionId: string,
  value: string,
  user: string,
  ts: string,
  responseUrl?: string,
  threadTs?: string,
) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId,
      value,
      userId: user,
      channelId: CARE_CHANNEL,
      messageTs: ts,
      ...(threadTs ? { threadTs } : {}),
      ...(responseUrl ? { responseUrl } : {}),
    }),
  );
}

function escalate(t: TestCarebot, teams: string[], urgency: 'normal' | 'urgent', note: string) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    viewSubmissionPayload({
      callbackId: 'case_escalate_submit',
      userId: AGENT,
      privateMetadata: '1',
      values: {
        escalate_team: {
          team: { type: 'multi_static_select', selected_options: teams.map((value) => ({ value })) },
        },
        escalate_urgency: { urgency: { type: 'radio_buttons', selected_option: { value: urgency } } },
        escalate_note: { note },
      },
    }),
  );
}

const threadTexts = (t: TestCarebot, ts: string) =>
  t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.ok && c.params.thread_ts === ts)
    .map((c) => String(c.params.text));

describe('escalation, priority and ownership', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });

  it('escalates to several teams at once, urgently, with Acknowledge and Answer on each', async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    expect((await escalate(t, ['pr', 'legal'], 'urgent', 'Customer posted our CEO email')).status).toBe(200);
    await sync(t);
    const mentions = t.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.ok && c.params.thread_ts === threadTs);
    expect(mentions.map((m) => String(m.params.text))).toEqual([
      expect.stringMatching(/^:rotating_light: \*Urgent\* <!subteam\^S0PR00001> <@U0AGENT001> needs PR/),
      expect.stringMatching(/^:rotating_light: \*Urgent\* <@U0LEGAL001> <@U0AGENT001> needs Legal/),
    ]);
    const actions = blocksOf(mentions[0])
      .find((b) => b.type === 'actions')
      ?.elements?.map((e) => e.action_id);
    expect(actions).toEqual(['escalation_ack', 'escalation_answer']);
    const rows = await t.db.db.select().from(escalations).orderBy(asc(escalations.id));
    expect(rows.map((r) => [r.teamKey, r.urgency])).toEqual([
      ['pr', 'urgent'],
      ['legal', 'urgent'],
    ]);
    const card = t.slack.callsTo('chat.update').at(-1);
    expect(JSON.stringify(card?.params.blocks)).toContain('Waiting on PR since');
  });

  it('lets only team members acknowledge, and shows who did', async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    await escalate(t, ['pr'], 'normal', 'Statement needed');
    await sync(t);
    const mention = t.slack.callsTo('chat.postMessage').find((c) => c.params.thread_ts === threadTs);
    const ts = tsOf(mention);
    // Neither PR nor the care team (the care team may acknowledge too: DESIGN.md, Permissions).
    await click(t, 'escalation_ack', '1', 'U0SALES001', ts, undefined, threadTs);
    const [refusal] = await t.slack.waitFor('chat.postEphemeral');
    expect(String(refusal?.params.text)).toContain('Only PR can acknowledge');
    await click(t, 'escalation_ack', '1', PR1, ts, undefined, threadTs);
    await vi.waitFor(async () =>
      expect((await t.db.db.select().from(escalations))[0]?.acknowledgedBy).toBe(PR1),
    );
    await vi.waitFor(() => {
      const updated = t.slack.callsTo('chat.update').find((c) => c.params.ts === ts);
      expect(JSON.stringify(updated?.params.blocks)).toContain(`Acknowledged by <@${PR1}>`);
    });
  });

  it("refuses Acknowledge and Answer pressed anywhere but the escalation's own case thread", async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    await escalate(t, ['pr'], 'normal', 'Statement needed');
    await postWebhook(t, complaint({ id: 'm2', conversationId: 'c2' }));
    await sync(t);
    const otherCard = t.slack
      .callsTo('chat.postMessage')
      .find((c) => !c.params.thread_ts && c.params.ts !== threadTs && tsOf(c) !== threadTs);
    const otherTs = tsOf(otherCard);
    // Escalation 1 belongs to case 1; these clicks come from case 2's card and from another channel.
    await click(t, 'escalation_ack', '1', PR1, otherTs);
    await click(t, 'escalation_answer', '1', PR1, otherTs);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'escalation_ack',
        value: '1',
        userId: PR1,
        channelId: 'C0ELSEWHERE',
        messageTs: threadTs,
      }),
    );
    await vi.waitFor(() => expect(t.slack.callsTo('chat.postEphemeral')).toHaveLength(3));
    for (const refusal of t.slack.callsTo('chat.postEphemeral'))
      expect(String(refusal.params.text)).toContain('does not belong to the message it was pressed on');
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    expect((await t.db.db.select().from(escalations))[0]?.acknowledgedBy).toBeNull();
  });

  it("shows the team's answer to the owner in the thread and keeps it in the log", async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    await escalate(t, ['pr'], 'normal', 'Can we offer a refund?');
    await sync(t);
    const ts = tsOf(t.slack.callsTo('chat.postMessage').find((c) => c.params.thread_ts === threadTs));
    await click(t, 'escalation_answer', '1', PR1, ts, undefined, threadTs);
    const [open] = await t.slack.waitFor('views.open');
    expect((open?.params.view as { callback_id?: string } | undefined)?.callback_id).toBe(
      'escalation_answer_submit',
    );
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      viewSubmissionPayload({
        callbackId: 'escalation_answer_submit',
        userId: PR1,
        privateMetadata: '1',
        values: { escalation_answer: { answer: 'Yes, full refund <!channel>' } },
      }),
    );
    await vi.waitFor(async () => expect((await t.db.db.select().from(escalations))[0]?.answeredBy).toBe(PR1));
    await sync(t);
    const answer = threadTexts(t, threadTs).find((x) => x.includes('answer from PR'));
    expect(answer).toContain(`<@${AGENT}> answer from PR (<@${PR1}>)`);
    expect(answer).toContain('&gt;Yes, full refund &lt;!channel&gt;'.slice(4));
    const log = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'escalation_answered'));
    expect(log[0]?.data).toMatchObject({ answer: 'Yes, full refund <!channel>' });
  });

  it('reminds a team that has not acknowledged once, and the owner to update the customer every 4 h', async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    await escalate(t, ['pr'], 'normal', 'Statement needed');
    await sync(t);
    const sweep = async () => {
      await t.carebot.escalationSweep.runOnce();
      await sync(t);
    };
    t.clock.advance(minutes(29));
    await sweep();
    expect(threadTexts(t, threadTs).filter((x) => x.includes('please acknowledge'))).toHaveLength(0);
    t.clock.advance(minutes(2));
    await sweep();
    await sweep();
    const ack = threadTexts(t, threadTs).filter((x) => x.includes('please acknowledge'));
    expect(ack).toHaveLength(1);
    expect(ack[0]).toContain('<!subteam^S0PR00001>');
    expect(ack[0]).toContain(`<@${AGENT}> is waiting for PR`);
    t.clock.advance(hours(4));
    await sweep();
    await sweep();
    t.clock.advance(hours(4));
    await sweep();
    const updates = threadTexts(t, threadTs).filter((x) => x.includes('Keep the customer informed'));
    expect(updates).toHaveLength(2);
    expect(updates[0]).toContain(`<@${AGENT}>`);
  });

  it('applies the escalation tree: reach, keywords and wording set priority and pull teams in', async () => {
    const t = carebot();
    members(t);
    await postWebhook(
      t,
      complaint({
        id: 'loud',
        conversationId: 'loud',
        author: { id: 'u9', name: 'Famous Person', followers: 120000 } as never,
        text: 'My lawyer will hear about this',
      }),
    );
    await sync(t);
    const [c] = await t.db.db.select().from(cases);
    expect(c?.priority).toBe('P1');
    expect(c?.priorityReasons.join(' ')).toContain('keywords: lawyer');
    // P1 targets: a 15-minute first response.
    expect(c?.firstResponseDueAt?.toISOString()).toBe('2026-11-23T10:15:00.000Z');
    const teams = (await t.db.db.select().from(escalations)).map((e) => e.teamKey).sort();
    expect(teams).toEqual(['legal', 'pr']);
    expect(JSON.stringify(t.slack.callsTo('chat.postMessage')[0]?.params.blocks)).toContain(
      ':small_red_triangle: P1',
    );

    await postWebhook(
      t,
      complaint({
        id: 'angry',
        conversationId: 'angry',
        text: 'Terrible, awful, horrible service. I hate it. Worst ever.',
      }),
    );
    const [, angry] = await t.db.db.select().from(cases).orderBy(asc(cases.id));
    expect(angry?.priority).toBe('P2');
  });

  it('lets an agent change the priority, which re-times the SLA clocks', async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    const payload = blockActionPayload({
      actionId: 'case_priority',
      value: '',
      userId: AGENT,
      channelId: CARE_CHANNEL,
      messageTs: threadTs,
    });
    (payload.actions as Array<Record<string, unknown>>)[0] = {
      type: 'static_select',
      action_id: 'case_priority',
      block_id: 'case_actions:1',
      selected_option: { text: { type: 'plain_text', text: 'P1' }, value: 'P1' },
      action_ts: '1764000000.000100',
    };
    await postSlackInteraction(t.url, SIGNING_SECRET, payload);
    await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.priority).toBe('P1'));
    const [c] = await t.db.db.select().from(cases);
    expect(c?.firstResponseDueAt?.toISOString()).toBe('2026-11-23T10:15:00.000Z');
    const log = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'priority_changed'));
    expect(log[0]).toMatchObject({ actor: AGENT, data: { from: 'P3', to: 'P1' } });
  });

  it('offers a second claimer to take over, tells the previous owner, and refuses non-care-team claims', async () => {
    const t = carebot();
    members(t);
    const threadTs = await openClaimed(t);
    await click(t, 'case_claim', '1', AGENT2, threadTs);
    const [offer] = await t.slack.waitFor('chat.postEphemeral');
    expect(JSON.stringify(offer?.params.blocks)).toContain('case_take_over');
    await click(t, 'case_take_over', '1', AGENT2, threadTs, t.slack.responseUrl('takeover'));
    await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBe(AGENT2));
    await sync(t);
    expect(threadTexts(t, threadTs)).toContainEqual(
      `:arrows_counterclockwise: <@${AGENT}> <@${AGENT2}> took over this case.`,
    );

    await click(t, 'case_unclaim', '1', AGENT2, threadTs);
    await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.ownerId).toBeNull());
    await sync(t);
    expect(threadTexts(t, threadTs)).toContainEqual(
      expect.stringContaining(`<@${AGENT2}> let go of this case`),
    );

    await click(t, 'case_claim', '1', PR1, threadTs);
    await vi.waitFor(() =>
      expect(t.slack.callsTo('chat.postEphemeral').map((c) => String(c.params.text))).toContainEqual(
        expect.stringContaining('Only the care team can claim'),
      ),
    );
    expect((await t.db.db.select().from(cases))[0]?.ownerId).toBeNull();
  });

  it('publishes an App Home with my cases, unclaimed cases and cases waiting on my teams', async () => {
    const t = carebot();
    members(t);
    await openClaimed(t);
    await escalate(t, ['pr'], 'normal', 'Help');
    await postWebhook(t, complaint({ id: 'm2', conversationId: 'c2', text: 'Second complaint' }));
    await postSlackEvent(
      t.url,
      SIGNING_SECRET,
      eventCallbackEnvelope({ type: 'app_home_opened', user: PR1, channel: 'D0HOME0001', tab: 'home' }),
    );
    const [published] = await t.slack.waitFor('views.publish');
    const view = JSON.stringify(published?.params.view);
    expect(published?.params.user_id).toBe(PR1);
    expect(view).toContain('Nothing on your plate.');
    expect(view).toContain('#2 P3');
    expect(view).toContain('home:unclaimed:2');
    expect(view.indexOf('Waiting on my teams')).toBeLessThan(view.lastIndexOf('#1 P3'));
  });
});
