import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CareStats, careStats } from '../../src/care/stats.js';
import { caseExport, casesCsv } from '../../src/care/stats-export.js';
import { type StatsFilter, sourceKeysNamed } from '../../src/care/stats-filter.js';
import { statsPeriod } from '../../src/care/stats-period.js';
import type { Config } from '../../src/config.js';
import type { Database, DatabaseHandle } from '../../src/db/client.js';
import { caseEvents, cases, escalations, messages, replies, slackThreads } from '../../src/db/schema.js';
import { createTestDatabase } from '../support/database.js';

/**
 * One week of hand-made cases, with every figure worked out by hand below. "Now" is Monday
 * 2026-11-23 10:00 UTC; `7d` is Tue 17 Nov 00:00 → now, compared with Tue 10 Nov 00:00 → Mon 16 Nov
 * 10:00. Business hours Mon–Fri 09:00–18:00 UTC. Due times are stored, as the SLA clocks store them.
 */
const NOW = new Date('2026-11-23T10:00:00Z');
const at = (iso: string) => new Date(`${iso}Z`);
const MIN = 60_000;
const HOUR = 60 * MIN;
const BUSINESS: Config['businessHours'] = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '18:00',
  holidays: [],
};

type CaseSeed = Partial<typeof cases.$inferInsert> & { openedAt: Date; platform: string };

let conversation = 0;
async function seedCase(db: Database, c: CaseSeed): Promise<void> {
  conversation += 1;
  await db.insert(cases).values({
    sourceKey: c.sourceKey ?? `${c.platform}:main`,
    conversationId: `conv-${conversation}`,
    channelId: 'C0CARE0001',
    lastCustomerMessageAt: c.openedAt,
    createdAt: c.openedAt,
    updatedAt: c.openedAt,
    ...c,
  });
}

let slackTs = 0;
async function seedReply(db: Database, caseId: number, authorId: string, sentAt: Date, status = 'sent') {
  slackTs += 1;
  await db.insert(replies).values({
    caseId,
    status: status as 'sent',
    authorId,
    text: 'Sorry about that, we are on it.',
    slackChannel: 'C0CARE0001',
    slackTs: `1763900000.${String(slackTs).padStart(6, '0')}`,
    position: `1763900000.${String(slackTs).padStart(6, '0')}`,
    sendAt: sentAt,
    sentAt: status === 'sent' ? sentAt : null,
    createdAt: sentAt,
    updatedAt: sentAt,
  });
}

async function seed(db: Database): Promise<void> {
  // Current period. 1: X, answered in 20 m, two follow-ups answered in 40 m and 10 m, resolved in 4 h.
  await seedCase(db, {
    platform: 'x',
    sourceKey: 'x:123',
    priority: 'P1',
    openedAt: at('2026-11-17T10:00'),
    ownerId: 'UA',
    firstResponseDueAt: at('2026-11-17T11:00'),
    firstResponseAt: at('2026-11-17T10:20'),
    status: 'resolved',
    resolvedAt: at('2026-11-17T14:00'),
    resolutionRemainingMs: 5 * HOUR,
  });
  // 2: X, answered in 45 m; a follow-up at 12:00 still unanswered; resolution deadline passed.
  await seedCase(db, {
    platform: 'x',
    sourceKey: 'x:123',
    priority: 'P2',
    openedAt: at('2026-11-18T09:00'),
    ownerId: 'UA',
    firstResponseDueAt: at('2026-11-18T10:00'),
    firstResponseAt: at('2026-11-18T09:45'),
    nextResponseStartedAt: at('2026-11-18T12:00'),
    nextResponseDueAt: at('2026-11-18T13:00'),
    resolutionDueAt: at('2026-11-19T09:00'),
  });
  // 3: Facebook, Friday 17:30; answered Monday 09:10 (deadline Monday 09:30); resolved 09:30.
  await seedCase(db, {
    platform: 'facebook',
    sourceKey: 'facebook:99',
    priority: 'P3',
    openedAt: at('2026-11-20T17:30'),
    ownerId: 'UB',
    firstResponseDueAt: at('2026-11-23T09:30'),
    firstResponseAt: at('2026-11-23T09:10'),
    status: 'resolved',
    resolvedAt: at('2026-11-23T09:30'),
    resolutionRemainingMs: 20 * HOUR,
  });
  // 4: forum, Saturday (outside business hours), unclaimed; its deadline is exactly now.
  await seedCase(db, {
    platform: 'webhook',
    sourceKey: 'webhook:forum',
    priority: 'P3',
    openedAt: at('2026-11-21T12:00'),
    firstResponseDueAt: at('2026-11-23T10:00'),
    resolutionDueAt: at('2026-11-24T10:00'),
  });
  // 5: forum, Sunday evening, owned, first answer overdue, escalated to PR (no answer yet).
  await seedCase(db, {
    platform: 'webhook',
    sourceKey: 'webhook:forum',
    priority: 'P2',
    openedAt: at('2026-11-22T20:00'),
    ownerId: 'UB',
    firstResponseDueAt: at('2026-11-23T09:30'),
    resolutionDueAt: at('2026-11-24T09:00'),
    slaState: 'breached',
  });
  // Previous period. 6: answered in exactly 30 m, resolved in 10 h in time.
  await seedCase(db, {
    platform: 'x',
    sourceKey: 'x:123',
    openedAt: at('2026-11-10T10:00'),
    ownerId: 'UA',
    firstResponseDueAt: at('2026-11-10T11:00'),
    firstResponseAt: at('2026-11-10T10:30'),
    status: 'resolved',
    resolvedAt: at('2026-11-10T20:00'),
    resolutionRemainingMs: 6 * HOUR,
  });
  // 7: answered in 2 h (late), resolved in 24 h (late).
  await seedCase(db, {
    platform: 'x',
    sourceKey: 'x:123',
    openedAt: at('2026-11-11T10:00'),
    ownerId: 'UB',
    firstResponseDueAt: at('2026-11-11T11:00'),
    firstResponseAt: at('2026-11-11T12:00'),
    status: 'resolved',
    resolvedAt: at('2026-11-12T10:00'),
    resolutionRemainingMs: 0,
  });
  // 8: answered in 10 m; resolved late in the current period, 5 days after it opened.
  await seedCase(db, {
    platform: 'facebook',
    sourceKey: 'facebook:99',
    priority: 'P1',
    openedAt: at('2026-11-12T10:00'),
    ownerId: 'UA',
    firstResponseDueAt: at('2026-11-12T11:00'),
    firstResponseAt: at('2026-11-12T10:10'),
    status: 'resolved',
    resolvedAt: at('2026-11-17T10:00'),
    resolutionRemainingMs: 0,
  });
  // 9: before both periods.
  await seedCase(db, {
    platform: 'x',
    openedAt: at('2026-11-01T10:00'),
    status: 'resolved',
    resolvedAt: at('2026-11-05T10:00'),
  });
  // 10: Monday 16 Nov 12:00, between the periods (the previous one ends at 10:00): still waiting.
  await seedCase(db, {
    platform: 'rss',
    sourceKey: 'rss:blog',
    openedAt: at('2026-11-16T12:00'),
    firstResponseDueAt: at('2026-11-16T13:00'),
  });
  await db.insert(slackThreads).values({
    caseId: 10,
    channelId: 'C0CARE0001',
    threadTs: '1763300000.000100',
    postedAt: at('2026-11-16T12:00'),
  });
  await db.insert(messages).values({
    caseId: 4,
    kind: 'inbound',
    sourceKey: 'webhook:forum',
    externalId: 'f-1',
    authorId: 'jane',
    text: 'Where is my order?',
    sentAt: at('2026-11-21T12:00'),
    createdAt: at('2026-11-21T12:00'),
  });

  const events: Array<Omit<typeof caseEvents.$inferInsert, 'actor'>> = [
    // Next-response cycles: case 1 twice (40 m, 10 m, both met), case 2 (still running, overdue),
    // case 3 (ended by resolving it), case 7 in the previous period (2 h, missed).
    { caseId: 7, type: 'sla_started', data: { clocks: ['next_response'] }, at: at('2026-11-11T13:00') },
    {
      caseId: 7,
      type: 'sla_stopped',
      data: { clock: 'next_response', met: false },
      at: at('2026-11-11T15:00'),
    },
    { caseId: 1, type: 'sla_started', data: { clocks: ['next_response'] }, at: at('2026-11-17T11:00') },
    {
      caseId: 1,
      type: 'sla_stopped',
      data: { clock: 'next_response', met: true },
      at: at('2026-11-17T11:40'),
    },
    { caseId: 1, type: 'sla_started', data: { clocks: ['next_response'] }, at: at('2026-11-17T12:00') },
    {
      caseId: 1,
      type: 'sla_stopped',
      data: { clock: 'next_response', met: true },
      at: at('2026-11-17T12:10'),
    },
    { caseId: 2, type: 'sla_started', data: { clocks: ['next_response'] }, at: at('2026-11-18T12:00') },
    { caseId: 3, type: 'sla_started', data: { clocks: ['next_response'] }, at: at('2026-11-23T09:20') },
    { caseId: 3, type: 'resolved', data: {}, at: at('2026-11-23T09:30') },
    // Breaches: three in the current period, three in the previous one, one in between.
    { caseId: 7, type: 'sla_breached', data: { clock: 'first_response' }, at: at('2026-11-11T11:00') },
    { caseId: 7, type: 'sla_breached', data: { clock: 'resolution' }, at: at('2026-11-12T09:00') },
    { caseId: 8, type: 'sla_breached', data: { clock: 'resolution' }, at: at('2026-11-16T09:00') },
    { caseId: 10, type: 'sla_breached', data: { clock: 'first_response' }, at: at('2026-11-16T13:00') },
    { caseId: 2, type: 'sla_breached', data: { clock: 'next_response' }, at: at('2026-11-18T13:00') },
    { caseId: 2, type: 'sla_breached', data: { clock: 'resolution' }, at: at('2026-11-19T09:00') },
    { caseId: 5, type: 'sla_breached', data: { clock: 'first_response' }, at: at('2026-11-23T09:30') },
  ];
  for (const e of events) await db.insert(caseEvents).values({ actor: 'carebot', ...e });

  const escalation = (caseId: number, teamKey: string, createdAt: string, ack?: string, answer?: string) =>
    db.insert(escalations).values({
      caseId,
      teamKey,
      note: 'Please look',
      requestedBy: 'UA',
      createdAt: at(createdAt),
      acknowledgedAt: ack ? at(ack) : null,
      answeredAt: answer ? at(answer) : null,
    });
  await escalation(7, 'pr', '2026-11-11T11:00', '2026-11-11T11:05', '2026-11-11T12:00');
  await escalation(1, 'pr', '2026-11-17T10:30', '2026-11-17T10:40', '2026-11-17T11:30');
  await escalation(2, 'product', '2026-11-18T10:00', '2026-11-18T10:30');
  await escalation(5, 'pr', '2026-11-23T09:00');

  await seedReply(db, 1, 'UA', at('2026-11-17T10:20'));
  await seedReply(db, 1, 'UA', at('2026-11-17T11:40'));
  await seedReply(db, 1, 'UA', at('2026-11-17T12:10'));
  await seedReply(db, 2, 'UA', at('2026-11-18T09:45'));
  await seedReply(db, 2, 'UA', at('2026-11-18T12:30'), 'failed');
  await seedReply(db, 2, 'UC', at('2026-11-19T10:00'));
  await seedReply(db, 3, 'UB', at('2026-11-23T09:10'));
  await seedReply(db, 6, 'UA', at('2026-11-10T10:30'));
}

describe('care stats figures', () => {
  let handle: DatabaseHandle;
  let stats: CareStats;
  const run = (filter: StatsFilter = {}, zone = 'UTC') =>
    careStats(handle.db, {
      period: statsPeriod({ kind: '7d' }, NOW, zone),
      filter,
      now: NOW,
      businessHours: BUSINESS,
    });

  beforeAll(async () => {
    handle = await createTestDatabase();
    await seed(handle.db);
    stats = await run();
  });
  afterAll(async () => {
    await handle.close();
  });

  it('counts new cases by platform and priority against the previous period', () => {
    expect(stats.newCases).toEqual({ current: 5, previous: 3 });
    expect(stats.byPlatform).toEqual([
      { key: 'x', current: 2, previous: 2 },
      { key: 'webhook:forum', current: 2, previous: 0 },
      { key: 'facebook', current: 1, previous: 1 },
    ]);
    expect(stats.byPriority).toEqual([
      { key: 'P1', current: 1, previous: 1 },
      { key: 'P2', current: 2, previous: 0 },
      { key: 'P3', current: 2, previous: 2 },
    ]);
  });

  it('works out first response: percentiles, shares within 30 min, 1 h and the SLA', () => {
    // Answered in 20 m, 45 m and 63 h 40 m; p90 = 45 m + 0.8 × (63 h 40 m − 45 m).
    expect(stats.firstResponse.current).toEqual({
      answered: 3,
      median: 45 * MIN,
      p90: 183_900_000,
      // Cases 4 and 5 are unanswered past both thresholds, so they count as missed.
      within30m: { hits: 1, of: 5 },
      within1h: { hits: 2, of: 5 },
      // Case 4's deadline is exactly now (not missed yet); case 5's passed.
      withinSla: { hits: 3, of: 4 },
    });
    // 30 m (exactly on the threshold counts as within), 2 h, 10 m.
    expect(stats.firstResponse.previous).toEqual({
      answered: 3,
      median: 30 * MIN,
      p90: 6120_000,
      within30m: { hits: 2, of: 3 },
      within1h: { hits: 2, of: 3 },
      withinSla: { hits: 2, of: 3 },
    });
  });

  it('works out next response from the clock events, following each cycle to its end', () => {
    expect(stats.nextResponse.current).toEqual({
      answered: 2,
      median: 25 * MIN,
      p90: 2220_000,
      // Case 2's follow-up is unanswered for days; case 3's ended when the case was resolved.
      within30m: { hits: 1, of: 3 },
      within1h: { hits: 2, of: 3 },
      withinSla: { hits: 2, of: 3 },
    });
    expect(stats.nextResponse.previous).toEqual({
      answered: 1,
      median: 2 * HOUR,
      p90: 2 * HOUR,
      within30m: { hits: 0, of: 1 },
      within1h: { hits: 0, of: 1 },
      withinSla: { hits: 0, of: 1 },
    });
  });

  it('works out resolution over the cases resolved in each period', () => {
    // Resolved now: 4 h (met), 64 h (met), 120 h (case 8, missed).
    expect(stats.resolution.current).toEqual({
      resolved: 3,
      median: 64 * HOUR,
      p90: 391_680_000,
      withinSla: { hits: 2, of: 3 },
    });
    expect(stats.resolution.previous).toEqual({
      resolved: 2,
      median: 17 * HOUR,
      p90: 81_360_000,
      withinSla: { hits: 1, of: 2 },
    });
  });

  it('counts breaches by clock and escalations by team with median acknowledge and answer times', () => {
    expect(stats.breaches).toEqual([
      { key: 'resolution', current: 1, previous: 2 },
      { key: 'first_response', current: 1, previous: 1 },
      { key: 'next_response', current: 1, previous: 0 },
    ]);
    expect(stats.escalations).toEqual([
      { key: 'pr', current: 2, previous: 1, answered: 1, ackMedian: 10 * MIN, answerMedian: HOUR },
      { key: 'product', current: 1, previous: 0, answered: 0, ackMedian: 30 * MIN, answerMedian: null },
    ]);
  });

  it('shows the backlog now and the customer who has waited longest, with their thread', () => {
    expect(stats.backlog).toEqual({
      unclaimed: 2,
      owned: 2,
      waitingOnTeam: 2,
      overdue: 3,
      oldestWaiting: {
        caseId: 10,
        since: at('2026-11-16T12:00'),
        thread: { channelId: 'C0CARE0001', threadTs: '1763300000.000100' },
      },
    });
  });

  it('gives per-agent cases, replies, median first response and SLA hit rate', () => {
    expect(stats.agents).toEqual([
      // First response met on 1 and 2, resolution met on 1, missed on 2 (deadline passed, open).
      {
        userId: 'UA',
        casesOwned: 2,
        repliesSent: 4,
        firstResponseMedian: 32.5 * MIN,
        sla: { hits: 3, of: 4 },
      },
      // Case 3 met both; case 5's first answer is overdue.
      {
        userId: 'UB',
        casesOwned: 2,
        repliesSent: 1,
        firstResponseMedian: 3820 * MIN,
        sla: { hits: 2, of: 3 },
      },
      { userId: 'UC', casesOwned: 0, repliesSent: 1, firstResponseMedian: null, sla: { hits: 0, of: 0 } },
    ]);
  });

  it('buckets arrivals and replies by hour of the week and the day, in the stats time zone', () => {
    const cells = (grid: number[][]) =>
      grid.flatMap((hours, d) => hours.flatMap((n, h) => (n ? [`${d + 1}:${h}=${n}`] : [])));
    expect(cells(stats.arrivalsByHour)).toEqual(['2:10=1', '3:9=1', '5:17=1', '6:12=1', '7:20=1']);
    expect(cells(stats.repliesByHour)).toEqual(['1:9=1', '2:10=1', '2:11=1', '2:12=1', '3:9=1', '4:10=1']);
    expect(stats.outsideHours).toEqual({
      cases: 2,
      firstResponseMedianOutside: null,
      firstResponseMedianInside: 45 * MIN,
    });
    expect(
      stats.daily.map((d) => [d.day, d.opened, d.firstResponseWithinSla.hits, d.firstResponseWithinSla.of]),
    ).toEqual([
      ['2026-11-17', 1, 1, 1],
      ['2026-11-18', 1, 1, 1],
      ['2026-11-19', 0, 0, 0],
      ['2026-11-20', 1, 1, 1],
      ['2026-11-21', 1, 0, 0],
      ['2026-11-22', 1, 0, 1],
      ['2026-11-23', 0, 0, 0],
    ]);
  });

  it('moves days and hours with the time zone', async () => {
    const berlin = await run({}, 'Europe/Berlin');
    // Sunday 20:00 UTC is Sunday 21:00 in Berlin; Friday 17:30 UTC is 18:30 there (after hours).
    expect(berlin.arrivalsByHour[6]?.[21]).toBe(1);
    expect(berlin.arrivalsByHour[4]?.[18]).toBe(1);
    expect(berlin.daily[0]?.day).toBe('2026-11-17');
  });

  it('filters by platform, by source and by agent', async () => {
    const x = await run({ platform: 'x' });
    expect(x.newCases).toEqual({ current: 2, previous: 2 });
    expect(x.backlog).toMatchObject({ unclaimed: 0, owned: 1 });
    expect(x.agents.map((a) => [a.userId, a.casesOwned, a.repliesSent])).toEqual([
      ['UA', 2, 4],
      ['UC', 0, 1],
    ]);

    const keys = await sourceKeysNamed(handle.db, emptySources, 'forum');
    expect(keys).toEqual(['webhook:forum']);
    expect(await sourceKeysNamed(handle.db, emptySources, 'nope')).toBeUndefined();
    const forum = await run({ sourceKeys: keys });
    expect(forum.newCases).toEqual({ current: 2, previous: 0 });
    expect(forum.breaches).toEqual([{ key: 'first_response', current: 1, previous: 0 }]);
    expect(forum.escalations.map((e) => [e.key, e.current])).toEqual([['pr', 1]]);

    const ua = await run({ agentId: 'UA' });
    expect(ua.newCases).toEqual({ current: 2, previous: 2 });
    expect(ua.agents.map((a) => [a.userId, a.casesOwned, a.repliesSent])).toEqual([['UA', 2, 4]]);
    expect(ua.firstResponse.current.median).toBe(32.5 * MIN);
  });

  it('exports the cases of the period as CSV rows', async () => {
    const rows = await caseExport(handle.db, {
      period: statsPeriod({ kind: '7d' }, NOW, 'UTC'),
      filter: {},
      now: NOW,
      businessHours: BUSINESS,
    });
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    const csv = casesCsv(rows, 'UTC').split('\r\n');
    expect(csv[0]).toBe(
      'case id,platform,source,opened at,owner,priority,first response at,first response minutes,within SLA,resolved at,breaches,csat',
    );
    expect(csv[1]).toBe(
      '1,x,x:123,2026-11-17T10:00:00Z,UA,P1,2026-11-17T10:20:00Z,20,yes,2026-11-17T14:00:00Z,0,',
    );
    expect(csv[3]).toBe(
      '3,facebook,facebook:99,2026-11-20T17:30:00Z,UB,P3,2026-11-23T09:10:00Z,3820,yes,2026-11-23T09:30:00Z,0,',
    );
    // Unanswered: case 4 can still make it; case 5 missed and breached.
    expect(csv[4]).toBe('4,webhook,webhook:forum,2026-11-21T12:00:00Z,,P3,,,,,0,');
    expect(csv[5]).toBe('5,webhook,webhook:forum,2026-11-22T20:00:00Z,UB,P2,,,no,,1,');
    expect(csv).toHaveLength(7);
    expect(csv[6]).toBe('');
  });
});

const emptySources = {
  sources: { x: { accounts: [] }, rss: { feeds: [] }, facebook: { pages: [] }, reddit: { accounts: [] } },
} as unknown as Pick<Config, 'sources'>;
