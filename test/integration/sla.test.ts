import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { seconds } from '../../src/care/clock.js';
import { caseEvents, cases, escalations, slaReminders } from '../../src/db/schema.js';
import {
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

const dir = mkdtempSync(join(tmpdir(), 'carebot-sla-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'timezone: UTC',
    'care_team_usergroup: S0CARE0001',
    'managers_usergroup: S0MGRS0001',
    'teams:',
    '  - { key: pr, name: PR, usergroup: S0PR00001 }',
    'sla: { first_response: 1h, next_response: 1h, resolution: 24h, breach_escalate_to: pr }',
  ].join('\n'),
);

const AGENT = 'U0AGENT001';

async function sweep(t: TestCarebot) {
  for (let i = 0; i < 10 && (await t.carebot.slaSweep.runOnce()) > 0; i++) {}
  await sync(t);
}

/** Reminder texts posted in the case's thread so far. */
function reminders(t: TestCarebot, threadTs: string): string[] {
  return t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.ok && c.params.thread_ts === threadTs)
    .map((c) => String(c.params.text))
    .filter((text) => /has no owner|of the time for the|is due|missed its/.test(text));
}

async function openCase(t: TestCarebot, id = 'm1'): Promise<string> {
  await postWebhook(t, complaint({ id, conversationId: `c-${id}` }));
  await sync(t);
  return tsOf(
    t.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.ok && !c.params.thread_ts)
      .at(-1),
  );
}

describe('SLA clocks and reminders', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });

  it('sends each stage of the first-response clock once, in order, and applies the breach rule', async () => {
    const t = carebot(); // Monday 2026-11-23 10:00 UTC
    const threadTs = await openCase(t);
    const [c] = await t.db.db.select().from(cases);
    expect(c?.firstResponseDueAt?.toISOString()).toBe('2026-11-23T11:00:00.000Z');
    expect(c?.resolutionDueAt?.toISOString()).toBe('2026-11-25T16:00:00.000Z');
    const card = t.slack.callsTo('chat.postMessage')[0];
    expect(JSON.stringify(card?.params.blocks)).toContain('First answer due <!date^1795431600^');

    const steps: Array<[number, number]> = [
      [5, 0],
      [10, 1], // unclaimed nudge
      [30, 2], // 50 %
      [48, 3], // 80 %
      [60, 4], // breach
    ];
    for (const [minute, expected] of steps) {
      t.clock.set(new Date(Date.UTC(2026, 10, 23, 10, minute)));
      await sweep(t);
      await sweep(t);
      expect(reminders(t, threadTs)).toHaveLength(expected);
    }
    const [nudge, quiet, warn, breach] = reminders(t, threadTs);
    expect(nudge).toContain('<!subteam^S0CARE0001> case #1 has no owner yet');
    expect(quiet).toContain('50 % of the time for the first answer has passed');
    expect(quiet).not.toContain('<!subteam');
    expect(warn).toContain('<!subteam^S0CARE0001> the first answer on case #1 is due');
    expect(breach).toContain('<!subteam^S0MGRS0001> case #1 missed its first answer deadline');
    const [after] = await t.db.db.select().from(cases);
    expect(after?.slaState).toBe('breached');
    expect(JSON.stringify(t.slack.callsTo('chat.update').at(-1)?.params.blocks)).toContain('SLA breached');
    const [esc] = await t.db.db.select().from(escalations);
    expect(esc).toMatchObject({ teamKey: 'pr', requestedBy: 'carebot' });
    const types = (await t.db.db.select().from(caseEvents).orderBy(asc(caseEvents.id))).map((e) => e.type);
    expect(types.filter((x) => x.startsWith('sla_'))).toEqual([
      'sla_started',
      'sla_nudged',
      'sla_warned',
      'sla_warned',
      'sla_breached',
    ]);
  });

  it('claim, reply and resolve stop the right clocks; a follow-up starts the next-response clock', async () => {
    const t = carebot();
    t.slack.usergroupMembers.set('S0CARE0001', [AGENT]);
    const threadTs = await openCase(t);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_claim',
        value: '1',
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    await t.slack.waitFor('chat.update');
    t.clock.set('2026-11-23T10:15:00Z');
    await sweep(t);
    expect(reminders(t, threadTs)).toEqual([]); // no unclaimed nudge: it has an owner

    await postThreadMessage(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: AGENT,
      text: 'On it, Jane!',
    });
    await vi.waitFor(() => expect(t.slack.callsTo('chat.postEphemeral').length).toBeGreaterThan(0));
    t.clock.advance(seconds(11));
    await deliver(t);
    const [answered] = await t.db.db.select().from(cases);
    expect(answered?.firstResponseAt?.toISOString()).toBe('2026-11-23T10:15:11.000Z');
    t.clock.set('2026-11-23T11:30:00Z');
    await sweep(t);
    expect(reminders(t, threadTs)).toEqual([]); // the first-response clock stopped in time

    await postWebhook(t, complaint({ id: 'm1-b', conversationId: 'c-m1', text: 'Any news?' }));
    const [followed] = await t.db.db.select().from(cases);
    expect(followed?.nextResponseDueAt?.toISOString()).toBe('2026-11-23T12:30:00.000Z');
    t.clock.set('2026-11-23T12:00:00Z');
    // A Slack sync round the follow-up kicked may hold the case for a moment; the note comes once.
    await vi.waitFor(async () => {
      await sweep(t);
      expect(reminders(t, threadTs)).toEqual([
        expect.stringContaining('50 % of the time for the next answer'),
      ]);
    });

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
    await vi.waitFor(async () => expect((await t.db.db.select().from(cases))[0]?.status).toBe('resolved'), {
      timeout: 10_000,
    });
    const [resolved] = await t.db.db.select().from(cases);
    expect(resolved?.nextResponseDueAt).toBeNull();
    expect(resolved?.resolutionRemainingMs).toBeGreaterThan(0);
    t.clock.set('2026-11-26T12:00:00Z');
    await sweep(t);
    expect(reminders(t, threadTs)).toHaveLength(1);
  });

  it('sends one reminder when two sweeps run at once', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    t.clock.set('2026-11-23T10:10:00Z');
    await Promise.all([
      t.carebot.slaSweep.runOnce(),
      t.carebot.slaSweep.runOnce(),
      t.carebot.slaSweep.runOnce(),
    ]);
    await sync(t);
    expect(reminders(t, threadTs)).toHaveLength(1);
    expect(await t.db.db.select().from(slaReminders)).toHaveLength(1);
  });

  it('sweeps many due cases in one round, each reminded once, each with its own next check', async () => {
    const t = carebot();
    const threads: string[] = [];
    for (let i = 0; i < 12; i++) threads.push(await openCase(t, `batch-${i}`));
    // Half of them claimed: those get no unclaimed nudge, only the 50 % note.
    const all = await t.db.db.select().from(cases).orderBy(asc(cases.id));
    for (const c of all.slice(0, 6)) {
      await t.db.db.update(cases).set({ ownerId: AGENT }).where(eq(cases.id, c.id));
    }
    t.clock.set('2026-11-23T10:31:00Z');
    expect(await t.carebot.slaSweep.runOnce()).toBe(12);
    await sync(t);
    for (const [i, threadTs] of threads.entries()) {
      const sent = reminders(t, threadTs);
      expect(sent, `case ${i + 1}`).toHaveLength(i < 6 ? 1 : 2);
      expect(sent.at(-1)).toContain('50 % of the time for the first answer');
    }
    const after = await t.db.db.select().from(cases).orderBy(asc(cases.id));
    // Next stop for every case: the 80 % mention at 10:48.
    expect(new Set(after.map((c) => c.slaNextCheckAt?.toISOString()))).toEqual(
      new Set(['2026-11-23T10:48:00.000Z']),
    );
    expect(await t.carebot.slaSweep.runOnce()).toBe(0);
    t.clock.set('2026-11-23T10:48:00Z');
    await sweep(t);
    const states = await t.db.db.select().from(cases);
    expect(states.every((c) => c.slaState === 'at_risk')).toBe(true);
    for (const [i, threadTs] of threads.entries()) expect(reminders(t, threadTs)).toHaveLength(i < 6 ? 2 : 3);
  });

  it('after a long outage sends only the latest due stage of each clock, marked late', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    t.clock.set('2026-11-23T15:00:00Z');
    await sweep(t);
    const sent = reminders(t, threadTs);
    expect(sent).toHaveLength(2); // the unclaimed nudge and the first-response breach
    for (const text of sent) expect(text).toContain('late: carebot was not running');
    const rows = await t.db.db.select().from(slaReminders).orderBy(asc(slaReminders.id));
    expect(rows.filter((r) => r.outcome === 'skipped').map((r) => r.stage)).toEqual(['50pct', '80pct']);
    await sweep(t);
    expect(reminders(t, threadTs)).toHaveLength(2);
  });

  it('counts on business hours: a Friday-evening complaint is due on Monday, and nobody is nagged at the weekend', async () => {
    const t = carebot();
    t.clock.set('2026-11-27T17:55:00Z'); // Friday, five minutes before closing
    const threadTs = await openCase(t);
    const [c] = await t.db.db.select().from(cases);
    expect(c?.firstResponseDueAt?.toISOString()).toBe('2026-11-30T09:55:00.000Z');
    t.clock.set('2026-11-28T12:00:00Z'); // Saturday
    await sweep(t);
    t.clock.set('2026-11-30T08:59:00Z'); // Monday, before opening
    await sweep(t);
    expect(reminders(t, threadTs)).toEqual([]);
    t.clock.set('2026-11-30T09:05:30Z'); // ten business minutes after opening the case
    await sweep(t);
    expect(reminders(t, threadTs)).toEqual([expect.stringContaining('has no owner yet')]);
    expect(reminders(t, threadTs)[0]).not.toContain('late');
    t.clock.set('2026-11-30T09:55:10Z');
    await sweep(t);
    expect(reminders(t, threadTs).at(-1)).toContain('missed its first answer deadline');
  });
});
