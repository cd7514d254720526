import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { approveReply, rejectReply } from '../../src/care/approval.js';
import { assignCase, leaseRotation, releaseRotation } from '../../src/care/assignment-store.js';
import { resolveCase } from '../../src/care/case-lifecycle.js';
import { unclaimCase } from '../../src/care/case-ownership.js';
import { type Duration, milliseconds, minutes, seconds } from '../../src/care/clock.js';
import { queueReply } from '../../src/care/replies.js';
import { slaSettings } from '../../src/care/sla.js';
import { careStats } from '../../src/care/stats.js';
import type { StatsFilter } from '../../src/care/stats-filter.js';
import { statsPeriod } from '../../src/care/stats-period.js';
import { markWaiting } from '../../src/care/waiting.js';
import { cases } from '../../src/db/schema.js';
import { AutoResolve } from '../../src/jobs/auto-resolve.js';
import { createLogger } from '../../src/logger.js';
import { statsMessage } from '../../src/slack/stats.js';
import { complaint, postWebhook, sync, type TestCarebot, useCarebot } from '../support/carebot.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-stats-workflow-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(configPath, ['timezone: UTC', 'auto_resolve: { after: 3d }'].join('\n'));

const AGENT_A = 'U0FLOWA001';
const AGENT_B = 'U0FLOWB001';
const TRAINEE = 'U0FLOWT001';
const TRAINEE_2 = 'U0FLOWT002';
const APPROVER = 'U0FLOWAPP1';
const DAY = 86_400_000;
/** `7d` at this instant: Tue 17 Nov 00:00 → now, against Tue 10 Nov 00:00 → Mon 16 Nov 10:00. */
const NOW = '2026-11-23T10:00:00Z';

/**
 * Every figure comes from the functions that write the events in carebot: the round robin's
 * assignCase, Unclaim, Waiting, the auto-resolve job, a trainee's queued reply and its approval.
 */
describe('/care-stats workflow figures', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  let replyTs = 0;

  async function openCase(t: TestCarebot, at: string, source: string): Promise<number> {
    t.clock.set(at);
    const id = `flow-${at}-${source}`;
    await postWebhook(t, complaint({ source, id, conversationId: id, createdAt: at }));
    await sync(t);
    const all = await t.db.db.select({ id: cases.id }).from(cases);
    return Math.max(...all.map((c) => c.id));
  }

  async function autoAssign(t: TestCarebot, caseId: number, userId: string) {
    const now = t.clock.now();
    const lease = await leaseRotation(t.db.db, now, seconds(30));
    if (!lease) throw new Error('no lease');
    expect(await assignCase(t.db.db, { caseId, userId, lease, now, slackText: 'assigned' })).toBe('assigned');
    await releaseRotation(t.db.db, lease);
  }

  /** An agent answered, then marks the case waiting on its customer. */
  async function wait(t: TestCarebot, caseId: number, userId: string) {
    await t.db.db.update(cases).set({ lastReplyAt: t.clock.now() }).where(eq(cases.id, caseId));
    const result = await markWaiting(t.db.db, t.clock, { caseId, userId, slackText: () => 'waiting' });
    expect(result.kind).toBe('waiting');
  }

  async function autoResolve(t: TestCarebot, at: string) {
    t.clock.set(at);
    const job = new AutoResolve({
      db: t.db.db,
      clock: t.clock,
      logger: createLogger('error'),
      after: milliseconds(3 * DAY),
      nudgeAfter: null,
      sla: slaSettings(t.config),
      careTeamUsergroup: null,
      onChange: () => {},
    });
    expect((await job.runOnce()).resolved).toBe(1);
  }

  /** A trainee's draft; returns its reply id. */
  async function draft(t: TestCarebot, caseId: number, authorId: string): Promise<number> {
    replyTs += 1;
    const result = await queueReply(t.db.db, t.clock, {
      caseId,
      authorId,
      text: 'Sorry about that, we are on it.',
      origin: { channel: 'C0CARE0001', ts: `1763900000.${String(replyTs).padStart(6, '0')}` },
      findings: [],
      delay: seconds(10),
      approval: { approversUsergroup: null },
    });
    if (result.kind !== 'awaiting_approval') throw new Error(`not awaiting approval: ${result.kind}`);
    return result.reply.id;
  }

  async function approve(t: TestCarebot, replyId: number, after: Duration, text?: string) {
    t.clock.advance(after);
    const result = await approveReply(t.db.db, t.clock, {
      replyId,
      approverId: APPROVER,
      ...(text ? { text } : {}),
      findings: [],
      delay: seconds(10),
      slackText: () => 'approved',
    });
    expect(result.kind).toBe('ok');
    t.clock.advance(milliseconds(-after));
  }

  async function reject(t: TestCarebot, replyId: number, after: Duration) {
    t.clock.advance(after);
    const result = await rejectReply(t.db.db, t.clock, {
      replyId,
      approverId: APPROVER,
      note: 'Too curt',
      slackText: () => 'rejected',
    });
    expect(result.kind).toBe('ok');
    t.clock.advance(milliseconds(-after));
  }

  async function seedBothPeriods(t: TestCarebot) {
    // The previous period: one case assigned (kept), one waited on and resolved by carebot, one
    // draft approved after 30 minutes.
    const p1 = await openCase(t, '2026-11-12T09:00:00Z', 'forum');
    await autoAssign(t, p1, AGENT_A);
    await approve(t, await draft(t, p1, TRAINEE), minutes(30));
    const p2 = await openCase(t, '2026-11-12T10:00:00Z', 'forum');
    await wait(t, p2, AGENT_A);
    await autoResolve(t, '2026-11-15T10:01:00Z');

    // This period: C1 assigned to A, who hands it back; C2 (shop) assigned to B; C3 (shop) waited
    // on by B and resolved by carebot; C1 resolved by B. Drafts: the trainee's approved in 10 m,
    // approved with an edit in 20 m, rejected in 60 m, one still waiting; another trainee's
    // approved in 40 m.
    const c1 = await openCase(t, '2026-11-18T09:00:00Z', 'forum');
    await autoAssign(t, c1, AGENT_A);
    t.clock.advance(minutes(5));
    expect((await unclaimCase(t.db.db, t.clock, c1, AGENT_A)).kind).toBe('unclaimed');
    const c2 = await openCase(t, '2026-11-18T10:00:00Z', 'shop');
    await autoAssign(t, c2, AGENT_B);
    await approve(t, await draft(t, c2, TRAINEE), minutes(10));
    t.clock.advance(minutes(1));
    await approve(t, await draft(t, c2, TRAINEE), minutes(20), 'Sorry, we are looking into it now.');
    t.clock.advance(minutes(1));
    await reject(t, await draft(t, c2, TRAINEE), minutes(60));
    t.clock.advance(minutes(1));
    await draft(t, c2, TRAINEE);
    await approve(t, await draft(t, c1, TRAINEE_2), minutes(40));
    const c3 = await openCase(t, '2026-11-18T11:00:00Z', 'shop');
    await autoAssign(t, c3, AGENT_B);
    await wait(t, c3, AGENT_B);
    await autoResolve(t, '2026-11-21T11:01:00Z');
    expect((await resolveCase(t.db.db, t.clock, c1, AGENT_B)).kind).toBe('resolved');
    t.clock.set(NOW);
  }

  const statsFor = (t: TestCarebot, filter: StatsFilter = {}) =>
    careStats(t.db.db, {
      period: statsPeriod({ kind: '7d' }, t.clock.now(), 'UTC'),
      filter,
      now: t.clock.now(),
      businessHours: t.config.businessHours,
    });

  const messageOf = async (t: TestCarebot, filter: StatsFilter = {}) =>
    JSON.stringify(
      statsMessage(await statsFor(t, filter), {
        teams: [],
        businessHours: t.config.businessHours,
        chart: 'on_request',
      }),
    );

  it('counts what each feature did in the period and in the one before', async () => {
    const t = carebot();
    await seedBothPeriods(t);
    const w = (await statsFor(t)).workflow;
    expect(w?.current).toEqual({
      autoAssigned: 3,
      handedBack: 1,
      resolved: 2,
      autoResolved: 1,
      waitingStarted: 1,
      approved: 2,
      editedApproved: 1,
      rejected: 1,
      // 10, 20, 40 and 60 minutes.
      decisionMedian: minutes(30),
    });
    expect(w?.previous).toEqual({
      autoAssigned: 1,
      handedBack: 0,
      resolved: 1,
      autoResolved: 1,
      waitingStarted: 1,
      approved: 1,
      editedApproved: 0,
      rejected: 0,
      decisionMedian: minutes(30),
    });
    expect(w?.draftsWaiting).toBe(1);

    const message = await messageOf(t);
    expect(message).toContain('*Workflow*');
    expect(message).toContain('Auto-assigned 3 cases (was 1) · 1 handed back (33%) (was 0)');
    expect(message).toContain('Resolved automatically 1 of 2 resolutions (50%) (was 1 of 1)');
    expect(message).toContain('Marked waiting on the customer 1 time');
    expect(message).toContain(
      'Trainee drafts decided 4 (was 1): 2 approved, 1 approved with edits, 1 rejected · decided in 30m (median), was 30m · 1 waiting now',
    );
  });

  it('honours the source, platform and agent filters, each on the person its figure is about', async () => {
    const t = carebot();
    await seedBothPeriods(t);

    const shop = (await statsFor(t, { sourceKeys: ['webhook:shop'] })).workflow;
    expect(shop?.current).toMatchObject({
      autoAssigned: 2,
      handedBack: 0,
      resolved: 1,
      autoResolved: 1,
      waitingStarted: 1,
      approved: 1,
      editedApproved: 1,
      rejected: 1,
      decisionMedian: minutes(20),
    });
    expect(shop?.previous).toMatchObject({ autoAssigned: 0, resolved: 0, approved: 0 });
    expect(shop?.draftsWaiting).toBe(1);

    // A: assigned one case in each period and handed this one back; marked one waiting before.
    const a = (await statsFor(t, { agentId: AGENT_A })).workflow;
    expect(a?.current).toMatchObject({ autoAssigned: 1, handedBack: 1, waitingStarted: 0, approved: 0 });
    expect(a?.previous).toMatchObject({ autoAssigned: 1, handedBack: 0, waitingStarted: 1 });
    expect(a?.draftsWaiting).toBe(0);
    const aMessage = await messageOf(t, { agentId: AGENT_A });
    expect(aMessage).toContain('Auto-assigned 1 case · 1 handed back (100%) (was 0)');
    expect(aMessage).not.toContain('Trainee drafts');

    // Resolutions count for the case's owner: B owns C3, which carebot resolved; C1, which B
    // resolved after A let go of it, has no owner.
    const b = (await statsFor(t, { agentId: AGENT_B })).workflow;
    expect(b?.current).toMatchObject({ autoAssigned: 2, resolved: 1, autoResolved: 1, waitingStarted: 1 });

    // The trainee: their own drafts only.
    const trainee = (await statsFor(t, { agentId: TRAINEE })).workflow;
    expect(trainee?.current).toMatchObject({
      autoAssigned: 0,
      approved: 1,
      editedApproved: 1,
      rejected: 1,
      decisionMedian: minutes(20),
    });
    expect(trainee?.previous).toMatchObject({ approved: 1, decisionMedian: minutes(30) });
    expect(trainee?.draftsWaiting).toBe(1);
    const traineeMessage = await messageOf(t, { agentId: TRAINEE });
    expect(traineeMessage).toContain('Trainee drafts decided 3 (was 1): 1 approved, 1 approved with edits');
    expect(traineeMessage).not.toContain('Auto-assigned');
    expect(traineeMessage).not.toContain('Marked waiting');

    // Nothing on X: no section at all.
    const x = await statsFor(t, { platform: 'x' });
    expect(x.workflow?.current).toMatchObject({ autoAssigned: 0, resolved: 0, approved: 0 });
    expect(await messageOf(t, { platform: 'x' })).not.toContain('*Workflow*');
  });

  it('shows nothing of a feature the team does not use', async () => {
    const t = carebot();
    // Cases answered and resolved by people, nothing automatic, no trainees.
    const c = await openCase(t, '2026-11-18T09:00:00Z', 'forum');
    t.clock.advance(minutes(30));
    expect((await resolveCase(t.db.db, t.clock, c, AGENT_A)).kind).toBe('resolved');
    t.clock.set(NOW);
    expect((await statsFor(t)).workflow?.current.resolved).toBe(1);
    expect(await messageOf(t)).not.toContain('*Workflow*');

    // One auto-assignment: that line alone, not a row of zeros for the others.
    const d = await openCase(t, '2026-11-19T09:00:00Z', 'forum');
    await autoAssign(t, d, AGENT_A);
    t.clock.set(NOW);
    const message = await messageOf(t);
    expect(message).toContain('*Workflow*\\nAuto-assigned 1 case (was 0) · 0 handed back (0%)');
    expect(message).not.toContain('Resolved automatically');
    expect(message).not.toContain('Marked waiting');
    expect(message).not.toContain('Trainee drafts');
  });
});
