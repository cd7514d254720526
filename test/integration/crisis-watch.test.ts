import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { blockActionPayload, postSlackInteraction, postSlashCommand } from '../../emulators/slack/signing.js';
import { hours, minutes } from '../../src/care/clock.js';
import { cases, crisisAlerts, crisisPeriods } from '../../src/db/schema.js';
import { CARE_CHANNEL, SIGNING_SECRET, sync, type TestCarebot, useCarebot } from '../support/carebot.js';
import { CRISIS_CHANNEL, complaints, crisisConfig, postedTo } from '../support/crisis.js';

const config = crisisConfig(
  [
    'mention: [pr]',
    'window: 15m',
    'factor: 3',
    'min_count: 10',
    'baseline_weeks: 2',
    'calm_after: 30m',
    'cluster: { min_cases: 6, min_terms: 1, lift: 5 }',
    'sla: { first_response: 15m }',
  ],
  ['managers_usergroup: S0MANAGERS', 'teams: [{ key: pr, name: PR, usergroup: S0PRTEAM01 }]'],
);

/** Usual Monday mornings: three late parcels in the 10:00 window, two weeks running. */
async function usualWeeks(t: TestCarebot) {
  for (const weeksAgo of [2, 1]) {
    t.clock.set(new Date(Date.parse('2026-11-23T09:55:00Z') - weeksAgo * hours(7 * 24)));
    await complaints(t, 3, 'My parcel never arrived', `usual-${weeksAgo}`);
  }
  t.clock.set('2026-11-23T09:50:00Z');
}

/** `user` presses a crisis-mode button on the care channel's banner. */
function pressBanner(t: TestCarebot, actionId: string, user: string) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId,
      value: 'banner',
      userId: user,
      channelId: CARE_CHANNEL,
      messageTs: '1764000000.000300',
    }),
  );
}

describe('crisis watch', () => {
  const carebot = useCarebot({ CARE_CONFIG: config });

  it('a quiet morning raises nothing', async () => {
    const t = carebot();
    await usualWeeks(t);
    await complaints(t, 4, 'My parcel never arrived', 'today');
    t.clock.set('2026-11-23T10:00:00Z');
    const report = await t.carebot.crisisWatch.runOnce();
    expect(report.alerted).toEqual([]);
    await sync(t);
    expect(postedTo(t, CRISIS_CHANNEL)).toHaveLength(0);
  });

  it('a spike gets one alert across instances, crisis mode with tighter SLA, and an all-clear once calm', async () => {
    const t = carebot();
    await usualWeeks(t);
    await complaints(t, 12, 'Checkout fails, my card was declined', 'storm');
    t.clock.set('2026-11-23T10:00:00Z');
    // Two instances' rounds at once: the partial unique index lets one alert through.
    const [a, b] = await Promise.all([t.carebot.crisisWatch.runOnce(), t.carebot.crisisWatch.runOnce()]);
    expect(a.alerted.length + b.alerted.length).toBe(1);
    expect((await t.carebot.crisisWatch.runOnce()).alerted).toEqual([]);
    const alerts = await t.db.db.select().from(crisisAlerts);
    expect(alerts).toMatchObject([{ kind: 'spike', platform: 'webhook', count: 12, baseline: 3 }]);
    expect(alerts[0]?.terms).toEqual(expect.arrayContaining(['checkout', 'declined']));

    await sync(t);
    const [alert] = postedTo(t, CRISIS_CHANNEL);
    const alertText = JSON.stringify(alert?.params.blocks);
    expect(alert?.params.text).toContain('Spike on Webhook: 12, usually 3 (4×)');
    expect(alertText).toContain('<!subteam^S0PRTEAM01>');
    expect(alertText).toContain('<!subteam^S0MANAGERS>');
    expect(alertText).toContain('crisis_open_incident');
    expect(alertText).toContain('Case #');
    // Crisis mode came on with the alert: a banner in the care channel, crisis targets for new cases.
    const banner = postedTo(t, CARE_CHANNEL).find((c) => String(c.params.text).includes('Crisis mode'));
    expect(banner?.params.text).toContain('first answers within 15m');
    await complaints(t, 1, 'Still cannot pay', 'during');
    const [during] = await t.db.db.select().from(cases).where(eq(cases.conversationId, 'during-0'));
    expect(during?.firstResponseDueAt?.toISOString()).toBe('2026-11-23T10:15:00.000Z');

    // Still busy at 10:10; quiet from then on. The all-clear waits for 30 minutes of calm.
    t.clock.set('2026-11-23T10:10:00Z');
    await complaints(t, 11, 'Checkout still broken', 'storm2');
    expect(await t.carebot.crisisWatch.runOnce()).toMatchObject({ alerted: [], cleared: [] });
    t.clock.set('2026-11-23T10:30:00Z');
    expect(await t.carebot.crisisWatch.runOnce()).toMatchObject({ alerted: [], cleared: [] });
    t.clock.set('2026-11-23T10:40:00Z');
    const calm = await t.carebot.crisisWatch.runOnce();
    expect(calm.cleared).toHaveLength(1);
    expect((await t.carebot.crisisWatch.runOnce()).cleared).toEqual([]);
    await sync(t);
    const clear = postedTo(t, CRISIS_CHANNEL).find((c) => String(c.params.text).includes('All clear'));
    expect(clear?.params.thread_ts).toBe(alert?.response?.ts);
    expect(JSON.stringify(clear?.params.blocks)).toContain('crisis_mode_off');
    const updated = t.slack.callsTo('chat.update').find((c) => c.params.ts === alert?.response?.ts);
    expect(updated?.params.text).toContain('Over since');

    // Crisis mode stays until someone lifts it.
    expect(await t.db.db.select().from(crisisPeriods)).toMatchObject([{ liftedAt: null }]);
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care',
      text: 'crisis off',
      response_url: t.slack.responseUrl('crisis'),
    });
    const [answer] = await t.slack.waitFor('response_url');
    expect(answer?.params.text).toContain('Crisis mode lifted');
    await sync(t);
    const bannerUpdate = t.slack.callsTo('chat.update').find((c) => c.params.ts === banner?.response?.ts);
    expect(bannerUpdate?.params.text).toContain('lifted by <@U0AGENT001>');
    t.clock.advance(minutes(1));
    await complaints(t, 1, 'Paid twice', 'after');
    const [after] = await t.db.db.select().from(cases).where(eq(cases.conversationId, 'after-0'));
    expect(after?.firstResponseDueAt?.toISOString()).toBe('2026-11-23T11:41:00.000Z');
  });

  it('crisis mode by hand: the buttons turn it on and off, once each', async () => {
    const t = carebot();
    const pressMode = (actionId: string, user: string) => pressBanner(t, actionId, user);
    await pressMode('crisis_mode_on', 'U0MANAGER1');
    await t.slack.waitFor('chat.postEphemeral');
    await pressMode('crisis_mode_on', 'U0MANAGER2');
    await t.slack.waitFor('chat.postEphemeral', 2);
    const texts = t.slack.callsTo('chat.postEphemeral').map((c) => c.params.text);
    expect(texts).toEqual([expect.stringContaining('Crisis mode is on'), 'Crisis mode is already on.']);
    expect(await t.db.db.select().from(crisisPeriods)).toMatchObject([
      { startedBy: 'U0MANAGER1', liftedAt: null },
    ]);
    await sync(t);
    expect(postedTo(t, CARE_CHANNEL).map((c) => c.params.text)).toEqual([
      expect.stringContaining(`*Crisis mode* since`),
    ]);
    await pressMode('crisis_mode_off', 'U0MANAGER2');
    await t.slack.waitFor('chat.postEphemeral', 3);
    expect(t.slack.callsTo('chat.postEphemeral').at(-1)?.params.text).toContain('Crisis mode lifted');
    expect(await t.db.db.select().from(crisisPeriods)).toMatchObject([{ liftedBy: 'U0MANAGER2' }]);
  });

  it('a cluster of new cases sharing unusual terms is flagged below the spike threshold', async () => {
    const t = carebot();
    await usualWeeks(t);
    await complaints(t, 2, 'My parcel never arrived', 'today');
    await complaints(t, 7, 'The voucher page shows error 502 when I redeem', 'voucher');
    t.clock.set('2026-11-23T10:00:00Z');
    const report = await t.carebot.crisisWatch.runOnce();
    expect(report.alerted).toHaveLength(1);
    expect(report.alerted[0]).toMatchObject({ kind: 'cluster', count: 7 });
    expect(report.alerted[0]?.terms).toEqual(expect.arrayContaining(['voucher', 'redeem']));
    expect((await t.carebot.crisisWatch.runOnce()).alerted).toEqual([]);
    await sync(t);
    const [alert] = postedTo(t, CRISIS_CHANNEL);
    expect(alert?.params.text).toContain('Cluster: 7 new cases share');
    t.clock.set('2026-11-23T10:50:00Z');
    expect((await t.carebot.crisisWatch.runOnce()).cleared).toHaveLength(1);
  });
});

describe('who may change crisis mode', () => {
  const carebot = useCarebot({
    CARE_CONFIG: crisisConfig(
      ['mention: [pr]'],
      [
        'care_team_usergroup: S0CARETEAM',
        'managers_usergroup: S0MANAGERS',
        'teams: [{ key: pr, name: PR, usergroup: S0PRTEAM01 }]',
      ],
    ),
  });

  it('the care team, managers and escalation teams may; anyone else is told why, and nothing changes', async () => {
    const t = carebot();
    t.slack.usergroupMembers.set('S0CARETEAM', ['U0AGENT001']);
    t.slack.usergroupMembers.set('S0MANAGERS', ['U0MANAGER1']);
    t.slack.usergroupMembers.set('S0PRTEAM01', ['U0PRLEAD01']);
    const press = (actionId: string, user: string) => pressBanner(t, actionId, user);
    await press('crisis_mode_on', 'U0VISITOR1');
    await t.slack.waitFor('chat.postEphemeral');
    expect(t.slack.callsTo('chat.postEphemeral')[0]?.params.text).toContain('Only the care team');
    expect(await t.db.db.select().from(crisisPeriods)).toEqual([]);
    await press('crisis_mode_on', 'U0PRLEAD01');
    await t.slack.waitFor('chat.postEphemeral', 2);
    expect(await t.db.db.select().from(crisisPeriods)).toMatchObject([{ startedBy: 'U0PRLEAD01' }]);
    await press('crisis_mode_off', 'U0VISITOR1');
    await t.slack.waitFor('chat.postEphemeral', 3);
    expect(await t.db.db.select().from(crisisPeriods)).toMatchObject([{ liftedAt: null }]);
    await press('crisis_mode_off', 'U0MANAGER1');
    await t.slack.waitFor('chat.postEphemeral', 4);
    expect(await t.db.db.select().from(crisisPeriods)).toMatchObject([{ liftedBy: 'U0MANAGER1' }]);
  });
});
