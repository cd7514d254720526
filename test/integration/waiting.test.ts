import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { ephemeralsFor, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { resolveCase } from '../../src/care/case-lifecycle.js';
import { milliseconds, seconds } from '../../src/care/clock.js';
import { LOOKUP_FAILED_TEXT } from '../../src/care/permissions.js';
import { slaSettings } from '../../src/care/sla.js';
import { CUSTOMER_ANSWERED_TEXT } from '../../src/care/waiting.js';
import { caseEvents, cases, slaReminders } from '../../src/db/schema.js';
import { AutoResolve } from '../../src/jobs/auto-resolve.js';
import { createLogger } from '../../src/logger.js';
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

const CARE = 'S0CARE0001';
const dir = mkdtempSync(join(tmpdir(), 'carebot-waiting-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'timezone: UTC',
    `care_team_usergroup: ${CARE}`,
    'sla: { first_response: 1h, next_response: 1h, resolution: 24h }',
    'auto_resolve: { after: 3d, nudge_after: 2d }',
  ].join('\n'),
);

// Each test has its own agents: carebot caches what Slack says of a person for a few minutes.
const AGENTS = ['U0WAITA001', 'U0WAITB001', 'U0WAITC001', 'U0WAITD001', 'U0WAITE001', 'U0WAITF001'];
const GUEST = 'U0WAITGST1';
const UNKNOWN = 'U0WAITUNK1';
const DAY = 86_400_000;

async function openCase(t: TestCarebot, id: string, extra: Parameters<typeof complaint>[0] = {}) {
  t.slack.usergroupMembers.set(CARE, [...AGENTS, GUEST, UNKNOWN]);
  await postWebhook(t, complaint({ id, conversationId: `conv-${id}`, ...extra }));
  await sync(t);
  return tsOf(
    t.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.ok && !c.params.thread_ts)
      .at(-1),
  );
}

async function press(t: TestCarebot, actionId: string, userId: string, threadTs: string, caseId = 1) {
  const res = await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId,
      value: String(caseId),
      userId,
      channelId: CARE_CHANNEL,
      messageTs: threadTs,
    }),
  );
  expect(res.status).toBe(200);
  // The handler acks first and works after: wait until it is done.
  expect(await t.carebot.slack.inFlight.idle(10_000)).toBe(true);
  await sync(t);
}

/** The agent claims the case and answers; the answer reaches the customer after the undo window. */
async function answer(t: TestCarebot, threadTs: string, agent: string, caseId = 1) {
  await press(t, 'case_claim', agent, threadTs, caseId);
  await postThreadMessage(t.url, SIGNING_SECRET, {
    channel: CARE_CHANNEL,
    threadTs,
    user: agent,
    text: 'Sorry about that! Could you send us your order number?',
  });
  expect(await t.carebot.slack.inFlight.idle(10_000)).toBe(true);
  await vi.waitFor(() => expect(ephemeralsFor(t.slack, agent).length).toBeGreaterThan(0));
  t.clock.advance(seconds(11));
  await deliver(t);
  await sync(t);
  const [c] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
  expect(c?.lastReplyAt).not.toBeNull();
}

async function caseRow(t: TestCarebot, id = 1) {
  const [c] = await t.db.db.select().from(cases).where(eq(cases.id, id));
  if (!c) throw new Error(`no case ${id}`);
  return c;
}

/** The card as last drawn for this thread (posted or updated). */
function card(t: TestCarebot, threadTs: string): string {
  const updates = t.slack.callsTo('chat.update').filter((c) => c.ok && c.params.ts === threadTs);
  const last = updates.at(-1) ?? t.slack.callsTo('chat.postMessage').find((c) => tsOf(c) === threadTs);
  return JSON.stringify(last?.params.blocks);
}

function threadTexts(t: TestCarebot, threadTs: string): string[] {
  return t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.ok && c.params.thread_ts === threadTs)
    .map((c) => String(c.params.text));
}

function secondInstance(t: TestCarebot): AutoResolve {
  return new AutoResolve({
    db: t.db.db,
    clock: t.clock,
    logger: createLogger('error'),
    after: milliseconds(3 * DAY),
    nudgeAfter: milliseconds(2 * DAY),
    sla: slaSettings(t.config),
    careTeamUsergroup: CARE,
    onChange: () => {},
  });
}

async function sweepSla(t: TestCarebot) {
  for (let i = 0; i < 10 && (await t.carebot.slaSweep.runOnce()) > 0; i++) {}
  await sync(t);
}

describe('waiting on the customer', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });

  it('offers the button only once the answer reached the customer; waiting pauses the SLA clocks', async () => {
    const t = carebot(); // Monday 2026-11-23 10:00 UTC
    const agent = AGENTS[0] as string;
    // Hostile customer text: nothing of it may reach the notes carebot writes in the thread.
    const threadTs = await openCase(t, 'w1', {
      author: { id: 'u-hostile', name: `<!channel> <@U0WAITA001> ${'N'.repeat(480)}` }, // the webhook's longest name
      text: `<@U0WAITA001> <!channel> ${'x'.repeat(10_000)}`,
    });
    expect(card(t, threadTs)).not.toContain('case_waiting');
    await answer(t, threadTs, agent);
    expect(card(t, threadTs)).toContain('"action_id":"case_waiting"');
    expect(card(t, threadTs)).toContain('Resolve by');

    await press(t, 'case_waiting', agent, threadTs);
    const waiting = await caseRow(t);
    expect(waiting.waitingSince?.toISOString()).toBe('2026-11-23T10:00:11.000Z');
    expect(waiting.slaNextCheckAt).toBeNull();
    const drawn = card(t, threadTs);
    expect(drawn).toContain(':hourglass: Waiting on the customer since <!date^');
    expect(drawn).not.toContain('Resolve by');
    expect(drawn).toContain('"action_id":"case_not_waiting"');
    expect(drawn).not.toContain('"action_id":"case_waiting"');
    const note = threadTexts(t, threadTs).find((x) => x.includes('marked this case as waiting'));
    expect(note).toContain(`<@${agent}> marked this case as waiting on the customer`);
    expect(note).toContain('carebot resolves the case');
    expect(note).toContain(`reminds <@${agent}> on <!date^${Date.parse('2026-11-25T10:00:11Z') / 1000}^`);
    for (const text of threadTexts(t, threadTs)) expect(text).not.toContain('<!channel>');

    // Far past every deadline the case had: the SLA sweep sends nothing while it waits.
    for (const at of ['2026-11-24T12:00:00Z', '2026-11-25T16:30:00Z', '2026-11-25T17:59:00Z']) {
      t.clock.set(at);
      await t.db.db.update(cases).set({ slaNextCheckAt: t.clock.now() }); // as a priority change would
      await sweepSla(t);
    }
    expect(await t.db.db.select().from(slaReminders)).toEqual([]);
    expect((await caseRow(t)).slaState).toBe('ok');
  });

  it('a customer message ends the wait; the clocks run again with the deadline moved by the time waited', async () => {
    const t = carebot();
    const agent = AGENTS[1] as string;
    const threadTs = await openCase(t, 'w2');
    await answer(t, threadTs, agent);
    expect((await caseRow(t)).resolutionDueAt?.toISOString()).toBe('2026-11-25T16:00:00.000Z');
    t.clock.set('2026-11-23T11:00:00Z');
    await press(t, 'case_waiting', agent, threadTs);

    // Tuesday 11:00: 9 business hours waited (Mon 11–18, Tue 9–11).
    t.clock.set('2026-11-24T11:00:00Z');
    await postWebhook(
      t,
      complaint({
        id: 'w2-b',
        conversationId: 'conv-w2',
        text: 'Order 1234',
        createdAt: '2026-11-24T10:59:00Z',
      }),
    );
    await sync(t);
    const resumed = await caseRow(t);
    expect(resumed.status).toBe('open');
    expect(resumed.waitingSince).toBeNull();
    expect(resumed.resolutionDueAt?.toISOString()).toBe('2026-11-26T16:00:00.000Z');
    expect(resumed.nextResponseDueAt?.toISOString()).toBe('2026-11-24T12:00:00.000Z');
    const texts = threadTexts(t, threadTs);
    const answered = texts.indexOf(CUSTOMER_ANSWERED_TEXT);
    expect(answered).toBeGreaterThan(texts.findIndex((x) => x.includes('Order 1234')));
    expect(texts.filter((x) => x === CUSTOMER_ANSWERED_TEXT)).toHaveLength(1);
    const drawn = card(t, threadTs);
    expect(drawn).not.toContain('Waiting on the customer since');
    expect(drawn).toContain(`Resolve by <!date^${Date.parse('2026-11-26T16:00:00Z') / 1000}^`);
    // The customer wrote last: no "Waiting on customer" until the next answer.
    expect(drawn).not.toContain('"action_id":"case_waiting"');
    // And the clocks really run: the next-answer warning comes at 80 %.
    t.clock.set('2026-11-24T11:49:00Z');
    await sweepSla(t);
    expect(threadTexts(t, threadTs).some((x) => x.includes('the next answer on case #1 is due'))).toBe(true);
  });

  it('"No longer waiting" undoes it; stale clicks say why and change nothing', async () => {
    const t = carebot();
    const agent = AGENTS[2] as string;
    const threadTs = await openCase(t, 'w3');
    await answer(t, threadTs, agent);
    await press(t, 'case_not_waiting', agent, threadTs);
    expect(ephemeralsFor(t.slack, agent).at(-1)?.params.text).toContain('is not waiting on the customer');

    t.clock.set('2026-11-23T12:00:00Z');
    await press(t, 'case_waiting', agent, threadTs);
    t.clock.set('2026-11-24T10:00:00Z'); // 6 h + 1 h of business time waited
    await press(t, 'case_not_waiting', agent, threadTs);
    const ended = await caseRow(t);
    expect(ended.waitingSince).toBeNull();
    expect(ended.resolutionDueAt?.toISOString()).toBe('2026-11-26T14:00:00.000Z');
    expect(ended.slaNextCheckAt?.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(threadTexts(t, threadTs).at(-1)).toBe(
      `:arrow_forward: <@${agent}> ended the wait on the customer: the SLA clocks run again (resolve by <!date^${Date.parse('2026-11-26T14:00:00Z') / 1000}^{date_short_pretty} {time}|2026-11-26 14:00 UTC>).`,
    );
    expect(card(t, threadTs)).toContain('"action_id":"case_waiting"');

    // The customer writes while the card still offers "Waiting on customer": the click is stale.
    await postWebhook(
      t,
      complaint({ id: 'w3-b', conversationId: 'conv-w3', createdAt: '2026-11-24T10:00:30Z' }),
    );
    t.clock.set('2026-11-24T10:01:00Z');
    const events = (await t.db.db.select().from(caseEvents)).length;
    await press(t, 'case_waiting', agent, threadTs);
    expect(ephemeralsFor(t.slack, agent).at(-1)?.params.text).toContain(
      'The customer has written since the last answer',
    );
    expect((await caseRow(t)).waitingSince).toBeNull();
    expect(await t.db.db.select().from(caseEvents)).toHaveLength(events);
  });

  it('refuses guests, and refuses when Slack cannot say who clicked', async () => {
    const t = carebot();
    const agent = AGENTS[3] as string;
    const threadTs = await openCase(t, 'w4');
    await answer(t, threadTs, agent);
    t.slack.users.set(GUEST, { id: GUEST, name: 'guest', is_restricted: true });
    await press(t, 'case_waiting', GUEST, threadTs);
    expect(ephemeralsFor(t.slack, GUEST).at(-1)?.params.text).toBe(
      'Only the care team can mark a case as waiting on the customer, or end the wait.',
    );
    t.slack.failNext('users.info', { status: 500, times: 20 });
    await press(t, 'case_waiting', UNKNOWN, threadTs);
    expect(ephemeralsFor(t.slack, UNKNOWN).at(-1)?.params.text).toBe(LOOKUP_FAILED_TEXT);
    expect((await caseRow(t)).waitingSince).toBeNull();
  });

  it('nudges once and resolves once with two instances racing; Reopen undoes it', async () => {
    const t = carebot();
    const agent = AGENTS[4] as string;
    const autoResolve = t.carebot.autoResolve;
    if (!autoResolve) throw new Error('auto_resolve is configured');
    const other = secondInstance(t);
    const threads: string[] = [];
    for (const n of [1, 2, 3]) {
      const threadTs = await openCase(t, `w5-${n}`);
      await answer(t, threadTs, agent, n);
      await press(t, 'case_waiting', agent, threadTs, n);
      threads.push(threadTs);
    }
    const since = (await caseRow(t, 1)).waitingSince as Date;
    t.clock.set(new Date(since.getTime() + 2 * DAY - 60_000));
    expect(await autoResolve.runOnce()).toEqual({ nudged: 0, resolved: 0 });

    t.clock.set(new Date(since.getTime() + 2 * DAY + 60_000));
    const nudges = await Promise.all([autoResolve.runOnce(), other.runOnce(), autoResolve.runOnce()]);
    expect(nudges.reduce((n, r) => n + r.nudged, 0)).toBe(3);
    expect((await other.runOnce()).nudged).toBe(0);
    await sync(t);
    for (const threadTs of threads) {
      const bells = threadTexts(t, threadTs).filter((x) => x.startsWith(':bell:'));
      expect(bells).toHaveLength(1);
      expect(bells[0]).toContain(`<@${agent}> the customer has not answered since`);
    }

    t.clock.set(new Date(since.getTime() + 3 * DAY + 60_000));
    const rounds = await Promise.all([other.runOnce(), autoResolve.runOnce(), other.runOnce()]);
    expect(rounds.reduce((n, r) => n + r.resolved, 0)).toBe(3);
    expect(rounds.reduce((n, r) => n + r.nudged, 0)).toBe(0);
    await sync(t);
    for (const [i, threadTs] of threads.entries()) {
      const c = await caseRow(t, i + 1);
      expect(c).toMatchObject({ status: 'resolved', waitingSince: null });
      expect(
        threadTexts(t, threadTs).filter((x) => x.startsWith(':white_check_mark: Resolved automatically')),
      ).toEqual([
        ':white_check_mark: Resolved automatically: no answer from the customer in 3 days — *Reopen* to undo.',
      ]);
      expect(card(t, threadTs)).toContain('"action_id":"case_reopen"');
    }
    const resolvedEvents = await t.db.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.type, 'resolved'))
      .orderBy(asc(caseEvents.id));
    expect(resolvedEvents.map((e) => [e.caseId, e.actor, e.data.automatic])).toEqual([
      [1, 'carebot', 'no_customer_answer'],
      [2, 'carebot', 'no_customer_answer'],
      [3, 'carebot', 'no_customer_answer'],
    ]);
    // The resolution clock was paused: it stopped "met", with what it had left when the wait began.
    const stopped = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'sla_stopped'));
    expect(stopped.filter((e) => e.caseId === 1 && e.data.clock === 'resolution')[0]?.data.met).toBe(true);
    expect((await caseRow(t, 1)).resolutionRemainingMs).toBeGreaterThan(20 * 3_600_000);

    await press(t, 'case_reopen', agent, threads[0] as string, 1);
    expect((await caseRow(t, 1)).status).toBe('open');
  });

  it('a customer message arriving as the case is resolved wins', async () => {
    const t = carebot();
    const agent = AGENTS[5] as string;
    const autoResolve = t.carebot.autoResolve;
    if (!autoResolve) throw new Error('auto_resolve is configured');
    const threadTs = await openCase(t, 'w6');
    await answer(t, threadTs, agent);
    await press(t, 'case_waiting', agent, threadTs);
    const since = (await caseRow(t)).waitingSince as Date;
    t.clock.set(new Date(since.getTime() + 3 * DAY + 60_000));
    // Both at once: whichever commits first, the case ends open and waiting no more.
    const [posted, round] = await Promise.all([
      postWebhook(t, complaint({ id: 'w6-b', conversationId: 'conv-w6', text: 'Still here!' })),
      autoResolve.runOnce(),
    ]);
    expect(posted.status).toBe(202);
    const c = await caseRow(t);
    expect(c.status).toBe('open');
    expect(c.waitingSince).toBeNull();
    await sync(t);
    const texts = threadTexts(t, threadTs);
    if (round.resolved === 0) expect(texts).toContain(CUSTOMER_ANSWERED_TEXT);
    else expect(texts.some((x) => x.startsWith(':white_check_mark: Resolved automatically'))).toBe(true);

    // A job that read the case as a candidate before the message came finds the wait over.
    if (round.resolved === 0) {
      const stale = await resolveCase(t.db.db, t.clock, 1, 'carebot', slaSettings(t.config), {
        onlyIfWaitingSince: since,
        slackText: 'should not be posted',
      });
      expect(stale.kind).toBe('already_resolved');
      expect((await caseRow(t)).status).toBe('open');
    }
    expect(await autoResolve.runOnce()).toEqual({ nudged: 0, resolved: 0 });
  });
});
