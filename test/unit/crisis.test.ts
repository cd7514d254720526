import { describe, expect, it } from 'vitest';
import {
  alertStep,
  describeRate,
  findClusters,
  judgeVolume,
  median,
  termHistory,
  termsOf,
  topTerms,
} from '../../src/care/crisis.js';

const SLOT_MS = 15 * 60_000;
const SLOTS_A_WEEK = (7 * 24 * 60) / 15;
const settings = { factor: 3, minCount: 20 };

/** A deterministic pseudo-random generator, so the synthetic weeks are the same every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A week of 15-minute case counts with a care team's usual shape: busy weekday daytimes (about 8 a
 * window, more at lunch), quiet nights and weekends, with noise.
 */
function normalWeek(seed: number): number[] {
  const rand = prng(seed);
  return Array.from({ length: SLOTS_A_WEEK }, (_, slot) => {
    const hour = Math.floor(slot / 4) % 24;
    const weekday = Math.floor(slot / 96) < 5;
    const mean = hour >= 8 && hour < 20 ? (weekday ? 8 : 4) + (hour === 12 ? 4 : 0) : 1;
    return Math.max(0, Math.round(mean + (rand() - 0.5) * mean));
  });
}

interface Run {
  alerts: number[];
  clears: number[];
}

/** Runs the watch over a week of windows, as the job does every window, with one alert state. */
function watch(week: number[], history: number[][], calmAfterMs = 2 * SLOT_MS): Run {
  const start = Date.parse('2026-11-23T00:00:00Z');
  let open: { lastAboveAt: Date } | undefined;
  const run: Run = { alerts: [], clears: [] };
  for (let slot = 0; slot < week.length; slot++) {
    const now = new Date(start + (slot + 1) * SLOT_MS);
    const judged = judgeVolume(
      { count: week[slot] as number, history: history.map((w) => w[slot] as number) },
      settings,
    );
    const step = alertStep(open, judged.spike, now, calmAfterMs);
    if (step === 'alert') {
      run.alerts.push(slot);
      open = { lastAboveAt: now };
    } else if (step === 'still' && open) {
      open.lastAboveAt = now;
    } else if (step === 'clear') {
      run.clears.push(slot);
      open = undefined;
    }
  }
  return run;
}

const pastWeeks = [normalWeek(1), normalWeek(2), normalWeek(3), normalWeek(4)];

describe('crisis watch: volume', () => {
  it('the median of past weeks is the baseline, so one odd week does not move it', () => {
    expect(median([6, 7, 90, 5])).toBe(6.5);
    expect(median([3])).toBe(3);
    expect(median([])).toBe(0);
    const judged = judgeVolume({ count: 30, history: [6, 7, 90, 5] }, settings);
    expect(judged).toMatchObject({ spike: true, baseline: 6.5, threshold: 20 });
    expect(judgeVolume({ count: 19, history: [0, 0] }, settings).spike).toBe(false);
    // Busy hours need the factor, not only the minimum count.
    expect(judgeVolume({ count: 25, history: [10, 10, 10] }, settings)).toMatchObject({
      spike: false,
      threshold: 30,
    });
  });

  it('a quiet week is not flagged, however its hours differ', () => {
    const run = watch(normalWeek(5), pastWeeks);
    expect(run).toEqual({ alerts: [], clears: [] });
  });

  it('a spike is flagged once while it lasts, dips included, and the all-clear comes once it has calmed', () => {
    const week = normalWeek(6);
    // Tuesday 10:00–12:00: an outage; at 11:00 one window dips below the threshold.
    const startSlot = 96 + 40;
    for (let slot = startSlot; slot < startSlot + 8; slot++) week[slot] = 60;
    week[startSlot + 4] = 15;
    const run = watch(week, pastWeeks);
    expect(run.alerts).toEqual([startSlot]);
    // Calm for two windows after the last busy one (slot startSlot + 7).
    expect(run.clears).toEqual([startSlot + 7 + 2]);
  });

  it('a past week with a crisis in it does not hide the next one', () => {
    const crisisWeek = normalWeek(7);
    for (let slot = 96 + 40; slot < 96 + 48; slot++) crisisWeek[slot] = 80;
    const week = normalWeek(8);
    week[96 + 41] = 50;
    const run = watch(week, [crisisWeek, ...pastWeeks.slice(0, 3)]);
    expect(run.alerts).toEqual([96 + 41]);
  });

  it('says the rate against normal in words', () => {
    expect(describeRate(42, 6)).toBe('42, usually 6 (7×)');
    expect(describeRate(30, 2.5)).toBe('30, usually 2.5 (12×)');
    expect(describeRate(25, 0)).toBe('25, usually none');
  });
});

describe('crisis watch: clusters', () => {
  const usual = termHistory([
    ...Array.from({ length: 150 }, (_, i) => `My order ${i} never arrived, where is my parcel?`),
    ...Array.from({ length: 50 }, () => 'The app is slow today and the order page keeps loading'),
    'Checkout was fine yesterday',
  ]);
  const settings = { minCases: 5, minTerms: 1, lift: 5 };

  it('terms are words that can name a problem', () => {
    expect([...termsOf("Checkout FAILED again!! Can't pay, card declined (error 502)")]).toEqual([
      'checkout',
      'failed',
      'pay',
      'card',
      'declined',
      'error',
    ]);
  });

  it('finds many new cases sharing unusual terms, and not the usual complaints', () => {
    const current = [
      ...Array.from({ length: 7 }, (_, i) => ({
        caseId: i + 1,
        text: `Checkout is broken, my card was declined ${i}`,
      })),
      ...Array.from({ length: 10 }, (_, i) => ({ caseId: 100 + i, text: 'My order never arrived' })),
    ];
    const clusters = findClusters(current, usual, settings);
    expect(clusters).toHaveLength(1);
    expect(clusters[0]?.terms.slice().sort()).toEqual(['broken', 'card', 'checkout', 'declined']);
    expect(clusters[0]?.caseIds).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(
      topTerms(
        current.map((c) => c.text),
        usual,
        3,
      ),
    ).toEqual(expect.arrayContaining(['broken', 'declined']));
  });

  it('needs enough cases, and enough shared terms when asked for more than one', () => {
    const few = Array.from({ length: 4 }, (_, i) => ({ caseId: i, text: 'checkout broken' }));
    expect(findClusters(few, usual, settings)).toEqual([]);
    const loose = [
      ...Array.from({ length: 3 }, (_, i) => ({ caseId: i, text: 'checkout broken' })),
      ...Array.from({ length: 3 }, (_, i) => ({ caseId: 10 + i, text: 'checkout slow' })),
    ];
    expect(findClusters(loose, usual, { ...settings, minTerms: 2 })).toEqual([]);
    const found = findClusters(loose, usual, { ...settings, minCases: 6 });
    expect(found.map((c) => c.terms)).toEqual([['checkout']]);
  });

  it('two separate storms are two clusters', () => {
    const current = [
      ...Array.from({ length: 6 }, (_, i) => ({ caseId: i, text: 'checkout broken' })),
      ...Array.from({ length: 6 }, (_, i) => ({ caseId: 20 + i, text: 'login password reset fails' })),
    ];
    const clusters = findClusters(current, usual, settings);
    expect(clusters.map((c) => c.caseIds.length)).toEqual([6, 6]);
  });
});
