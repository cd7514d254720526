import { describe, expect, it } from 'vitest';
import { milliseconds } from '../../src/care/clock.js';
import type { CareStats } from '../../src/care/stats.js';
import { casesCsv } from '../../src/care/stats-export.js';
import { statsPeriod } from '../../src/care/stats-period.js';
import type { ResponseFigures } from '../../src/care/stats-response.js';
import type { Config } from '../../src/config.js';
import { niceMax, statsChartPng, statsChartSvg } from '../../src/slack/chart.js';
import {
  businessHoursLabel,
  countChange,
  heatRows,
  periodDates,
  pointsChange,
  span,
  statsMessage,
} from '../../src/slack/stats.js';

const NOW = new Date('2026-11-23T10:00:00Z');
const MIN = 60_000;
const d = (ms: number) => milliseconds(ms);

const response = (over: Partial<ResponseFigures> = {}): ResponseFigures => ({
  answered: 40,
  median: d(42 * MIN),
  p90: d(190 * MIN),
  within30m: { hits: 16, of: 40 },
  within1h: { hits: 25, of: 40 },
  withinSla: { hits: 35, of: 40 },
  ...over,
});

function fixture(over: Partial<CareStats> = {}): CareStats {
  const period = statsPeriod({ kind: '7d' }, NOW, 'Europe/Berlin');
  const grid = () =>
    Array.from({ length: 7 }, (_, day) => Array.from({ length: 24 }, (_, h) => (day + h) % 5));
  return {
    period,
    filter: {},
    generatedAt: NOW,
    newCases: { current: 128, previous: 114 },
    byPlatform: [
      { key: 'x', current: 50, previous: 45 },
      { key: 'facebook', current: 30, previous: 32 },
      { key: 'webhook:forum', current: 48, previous: 37 },
    ],
    byPriority: [
      { key: 'P1', current: 3, previous: 2 },
      { key: 'P2', current: 20, previous: 20 },
      { key: 'P3', current: 105, previous: 92 },
    ],
    outsideHours: {
      cases: 32,
      firstResponseMedianOutside: d(550 * MIN),
      firstResponseMedianInside: d(35 * MIN),
    },
    backlog: {
      unclaimed: 3,
      owned: 9,
      waitingOnTeam: 2,
      overdue: 1,
      oldestWaiting: { caseId: 12, since: new Date(NOW.getTime() - 200 * MIN) },
    },
    firstResponse: {
      current: response(),
      previous: response({ median: d(55 * MIN), withinSla: { hits: 30, of: 36 } }),
    },
    nextResponse: { current: response({ answered: 10 }), previous: response() },
    resolution: {
      current: {
        resolved: 100,
        median: d(18 * 60 * MIN),
        p90: d(51 * 60 * MIN),
        withinSla: { hits: 91, of: 100 },
      },
      previous: {
        resolved: 90,
        median: d(20 * 60 * MIN),
        p90: d(60 * 60 * MIN),
        withinSla: { hits: 80, of: 90 },
      },
    },
    breaches: [
      { key: 'first_response', current: 4, previous: 6 },
      { key: 'resolution', current: 2, previous: 0 },
    ],
    escalations: [
      { key: 'pr', current: 3, previous: 1, answered: 2, ackMedian: d(12 * MIN), answerMedian: d(120 * MIN) },
    ],
    agents: [
      {
        userId: 'UA',
        casesOwned: 34,
        repliesSent: 80,
        firstResponseMedian: d(25 * MIN),
        sla: { hits: 46, of: 50 },
      },
    ],
    arrivalsByHour: grid(),
    repliesByHour: grid(),
    daily: period.days.map((day, i) => ({
      day,
      opened: 10 + i * 3,
      firstResponseWithinSla: i === 2 ? { hits: 0, of: 0 } : { hits: 8 + i, of: 10 + i },
    })),
    ...over,
  };
}

const options = {
  teams: [{ key: 'pr', name: 'PR', usergroup: 'S0PR' }],
  businessHours: {
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '09:00',
    end: '18:00',
    holidays: [],
  } as Config['businessHours'],
  chart: 'on_request' as const,
};

type Block = {
  type: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  elements?: Array<{ text: string }>;
};
const allText = (blocks: unknown[]) =>
  (blocks as Block[])
    .flatMap((b) => [
      b.text?.text ?? '',
      ...(b.fields ?? []).map((f) => f.text),
      ...(b.elements ?? []).map((e) => e.text),
    ])
    .join('\n');

describe('the stats message', () => {
  it('shows each figure with its change against the previous period', () => {
    const { text, blocks } = statsMessage(fixture(), {
      ...options,
      oldestWaitingLink: '<https://fake.slack.test/archives/C1/p1|case #12>',
    });
    const body = allText(blocks);
    expect((blocks[0] as Block).text?.text).toBe('Care stats: last 7 days');
    expect(body).toContain('17–23 Nov 2026, compared with the 7 days before · times in Europe/Berlin');
    expect(body).toContain('*New cases*\n128 (+12% vs 114)');
    expect(body).toContain('*Open now*\n12: 3 unclaimed, 9 claimed\n2 waiting on a team · 1 overdue');
    expect(body).toContain(
      '*By platform* X 50 (+11% vs 45) · Facebook 30 (−6% vs 32) · forum 48 (+30% vs 37)',
    );
    expect(body).toContain('*By priority* P1 3 (+50% vs 2) · P2 20 (±0% vs 20) · P3 105 (+14% vs 92)');
    expect(body).toContain('Oldest waiting: <https://fake.slack.test/archives/C1/p1|case #12>, for 3h 20m');
    expect(body).toContain('median 42m (was 55m) · p90 3h 10m (was 3h 10m)');
    expect(body).toContain('within 30 min 40% · 1 h 63% · SLA 88% (+4 pts)');
    expect(body).toContain('median 18h (was 20h) · p90 2d 3h');
    expect(body).toContain('within SLA 91% (+2 pts)');
    expect(body).toContain('business hours (Mon–Fri 09:00–18:00)');
    expect(body).toContain('*Breaches* first answer 4 (−33% vs 6) · resolution 2 (none before)');
    expect(body).toContain(
      '• PR: 3 (+200% vs 1) · acknowledged in 12m · answered in 2h (medians) · 1 unanswered',
    );
    expect(body).toContain('• <@UA> 34 cases · 80 replies · first answer 25m · SLA 92%');
    expect(body).toContain(
      '25% arrived outside business hours; their median first answer 9h 10m vs 35m inside.',
    );
    expect(body).toContain('Add `public`');
    expect(text).toBe(
      'Care stats: last 7 days: 128 new cases · Open: 12 (3 unclaimed, 9 claimed) · first answer median 42m, 88% within SLA',
    );
  });

  it('names the case without a link when there is no thread, and says when a chart is attached', () => {
    const { blocks } = statsMessage(fixture(), { ...options, chart: 'attached' });
    const body = allText(blocks);
    expect(body).toContain('Oldest waiting: case #12, for 3h 20m');
    expect(body).toContain('The chart below');
  });

  it('stays within Slack limits however many agents, teams and platforms there are', () => {
    const many = fixture({
      agents: Array.from({ length: 200 }, (_, i) => ({
        userId: `U${String(i).padStart(8, '0')}`,
        casesOwned: 200 - i,
        repliesSent: 3,
        firstResponseMedian: d(MIN),
        sla: { hits: 1, of: 2 },
      })),
      escalations: Array.from({ length: 60 }, (_, i) => ({
        key: `team-${i}-${'x'.repeat(40)}`,
        current: 1,
        previous: 0,
        answered: 0,
        ackMedian: null,
        answerMedian: null,
      })),
      byPlatform: Array.from({ length: 80 }, (_, i) => ({
        key: `platform-${i}-${'y'.repeat(30)}`,
        current: i,
        previous: 1,
      })),
    });
    const { blocks } = statsMessage(many, options);
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks as Block[]) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(b.type === 'header' ? 150 : 3000);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
    }
    expect(allText(blocks)).toContain('…and 185 more');
  });

  it('adds the workflow figures in one section, only those a feature produced', () => {
    const zero = {
      autoAssigned: 0,
      handedBack: 0,
      resolved: 0,
      autoResolved: 0,
      waitingStarted: 0,
      approved: 0,
      editedApproved: 0,
      rejected: 0,
      decisionMedian: null,
    };
    const unused = statsMessage(
      fixture({ workflow: { current: { ...zero, resolved: 40 }, previous: zero, draftsWaiting: 0 } }),
      options,
    );
    expect(allText(unused.blocks)).not.toContain('*Workflow*');
    const big = 9_999_999;
    const busy = statsMessage(
      fixture({
        workflow: {
          current: {
            autoAssigned: big,
            handedBack: big,
            resolved: big,
            autoResolved: big,
            waitingStarted: big,
            approved: big,
            editedApproved: big,
            rejected: big,
            decisionMedian: d(400 * 24 * 60 * MIN),
          },
          previous: { ...zero, autoResolved: 0, resolved: 3 },
          draftsWaiting: big,
        },
      }),
      options,
    );
    const section = (busy.blocks as Block[]).find((b) => b.text?.text.startsWith('*Workflow*'));
    expect(section?.text?.text.split('\n')).toHaveLength(5);
    expect(section?.text?.text).toContain(
      'Resolved automatically 9999999 of 9999999 resolutions (100%) (was 0 of 3)',
    );
    expect(section?.text?.text).toContain('decided in 400d (median) · 9999999 waiting now');
    expect(busy.blocks.length).toBeLessThanOrEqual(50);
    expect(section?.text?.text.length).toBeLessThanOrEqual(3000);
  });

  it('shows dashes, not zeros, where there is nothing to measure', () => {
    const empty = fixture({
      newCases: { current: 0, previous: 0 },
      byPlatform: [],
      byPriority: [],
      firstResponse: {
        current: response({ answered: 0, median: null, p90: null, withinSla: { hits: 0, of: 0 } }),
        previous: response({ median: null }),
      },
      agents: [],
      escalations: [],
      breaches: [],
      backlog: { unclaimed: 0, owned: 0, waitingOnTeam: 0, overdue: 0 },
    });
    const body = allText(statsMessage(empty, options).blocks);
    expect(body).toContain('*New cases*\n0 ');
    expect(body).toContain('*By platform* none');
    expect(body).toContain('median – · p90 –');
    expect(body).toContain('SLA –');
    expect(body).toContain('*Breaches* none');
    expect(body).toContain('*Agents* no owned cases or replies in the period');
    expect(body).not.toContain('Oldest waiting');
  });
});

describe('stats formatting', () => {
  it('says durations the way people do', () => {
    expect(
      [0, 45_000, 42 * MIN, 190 * MIN, 180 * MIN, 51 * 60 * MIN, 48 * 60 * MIN].map((ms) => span(d(ms))),
    ).toEqual(['0s', '45s', '42m', '3h 10m', '3h', '2d 3h', '2d']);
    expect(span(null)).toBe('–');
  });

  it('shows changes in percent for counts and in points for shares', () => {
    expect(countChange({ current: 0, previous: 0 })).toBe('');
    expect(countChange({ current: 5, previous: 0 })).toBe('(none before)');
    expect(countChange({ current: 0, previous: 4 })).toBe('(−100% vs 4)');
    expect(pointsChange({ hits: 1, of: 2 }, { hits: 1, of: 4 })).toBe(' (+25 pts)');
    expect(pointsChange({ hits: 1, of: 2 }, { hits: 0, of: 0 })).toBe('');
  });

  it('draws hour-of-week heat rows, a character an hour', () => {
    const grid = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
    (grid[0] as number[])[9] = 8;
    (grid[0] as number[])[10] = 1;
    const rows = heatRows(grid);
    expect(rows[0]).toBe('    0     6     12    18');
    expect(rows[1]).toBe(`Mon ${'·'.repeat(9)}█▁${'·'.repeat(13)}`);
    expect(rows[7]).toBe(`Sun ${'·'.repeat(24)}`);
  });

  it('labels business hours and period dates', () => {
    expect(businessHoursLabel('always')).toBe('around the clock');
    expect(businessHoursLabel({ days: ['sat', 'mon'], start: '10:00', end: '14:00', holidays: [] })).toBe(
      'Mon, Sat 10:00–14:00',
    );
    expect(periodDates(statsPeriod({ kind: 'today' }, NOW, 'UTC'))).toBe('23 Nov 2026');
    expect(periodDates(statsPeriod({ kind: '30d' }, NOW, 'UTC'))).toBe('25 Oct – 23 Nov 2026');
    expect(
      periodDates(statsPeriod({ kind: 'range', from: '2025-12-20', to: '2026-01-05' }, NOW, 'UTC')),
    ).toBe('20 Dec 2025 – 5 Jan 2026');
  });

  it('quotes CSV cells that need it', () => {
    const csv = casesCsv(
      [
        {
          id: 1,
          platform: 'webhook',
          sourceKey: 'webhook:a,"b"',
          openedAt: NOW,
          ownerId: null,
          priority: 'P3',
          firstResponseAt: null,
          firstResponseMinutes: null,
          withinSla: null,
          resolvedAt: null,
          breaches: 0,
          csat: 4,
        },
      ],
      'Europe/Berlin',
    );
    expect(csv.split('\r\n')[1]).toBe('1,webhook,"webhook:a,""b""",2026-11-23T11:00:00+01:00,,P3,,,,,0,4');
  });
});

describe('the stats chart', () => {
  const days = fixture().daily;

  it('draws a bar a day and the SLA line, broken where a day has nothing to measure', () => {
    const svg = statsChartSvg(days, { title: 'Care stats: last 7 days', zone: 'Europe/Berlin' });
    expect(svg.match(/<rect x=/g)).toHaveLength(days.length + 1); // the bars and the legend swatch
    const path = /<path d="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(path.match(/M/g)).toHaveLength(2);
    expect(path.match(/L/g)).toHaveLength(days.length - 3);
    expect(svg).toContain('Tue</text>');
    expect(svg).toContain('17 Nov</text>');
  });

  it('renders a PNG of 1000 × 500 pixels', () => {
    const png = statsChartPng(days, { title: 'Care stats: <last> 7 days & more', zone: 'Europe/Berlin' });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(1000);
    expect(png.readUInt32BE(20)).toBe(500);
  });

  it('rounds the axis to whole ticks', () => {
    expect([0, 3, 5, 9, 37, 128, 1000].map(niceMax)).toEqual([4, 4, 8, 12, 40, 200, 1000]);
  });
});
