import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessTime,
  businessTimeBetween,
  type Calendar,
  calendarFrom,
  isOpen,
} from '../../src/care/business-hours.js';

const HOUR = 3_600_000;
const weekdays = (zone: string, holidays: string[] = []): Calendar =>
  calendarFrom({
    timezone: zone,
    businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', holidays },
  });

describe('business-hours calendar', () => {
  it('skips the night and the weekend: Friday 17:30 + 1 h is Monday 09:30', () => {
    const cal = weekdays('UTC');
    expect(addBusinessTime(cal, new Date('2026-11-27T17:30:00Z'), HOUR).toISOString()).toBe(
      '2026-11-30T09:30:00.000Z',
    );
  });

  it('counts from the next opening when it starts outside hours', () => {
    const cal = weekdays('UTC');
    expect(addBusinessTime(cal, new Date('2026-11-24T20:00:00Z'), HOUR).toISOString()).toBe(
      '2026-11-25T10:00:00.000Z',
    );
    expect(addBusinessTime(cal, new Date('2026-11-28T12:00:00Z'), 0).toISOString()).toBe(
      '2026-11-30T09:00:00.000Z',
    );
  });

  it('skips holidays', () => {
    const cal = weekdays('UTC', ['2026-12-24', '2026-12-25']);
    expect(addBusinessTime(cal, new Date('2026-12-23T17:00:00Z'), 2 * HOUR).toISOString()).toBe(
      '2026-12-28T10:00:00.000Z',
    );
  });

  it('keeps wall-clock hours across a daylight-saving change (Europe/Berlin, March 2026)', () => {
    const cal = weekdays('Europe/Berlin');
    // Friday 27 March 17:30 CET (16:30Z) + 1 h → Monday 30 March 09:30 CEST (07:30Z).
    expect(addBusinessTime(cal, new Date('2026-03-27T16:30:00Z'), HOUR).toISOString()).toBe(
      '2026-03-30T07:30:00.000Z',
    );
    // And back in October: Friday 23 Oct 17:30 CEST (15:30Z) + 1 h → Monday 26 Oct 09:30 CET (08:30Z).
    expect(addBusinessTime(cal, new Date('2026-10-23T15:30:00Z'), HOUR).toISOString()).toBe(
      '2026-10-26T08:30:00.000Z',
    );
  });

  it('with `always`, business time is clock time', () => {
    const cal = calendarFrom({ timezone: 'UTC', businessHours: 'always' });
    expect(addBusinessTime(cal, new Date('2026-11-28T23:30:00Z'), HOUR).toISOString()).toBe(
      '2026-11-29T00:30:00.000Z',
    );
  });

  it('a day of 24 business hours takes almost three working days', () => {
    const cal = weekdays('UTC');
    expect(addBusinessTime(cal, new Date('2026-11-23T10:00:00Z'), 24 * HOUR).toISOString()).toBe(
      '2026-11-25T16:00:00.000Z',
    );
  });

  // Instants from 2024 to 2028, durations up to two weeks of business time.
  const instant = fc
    .integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2028, 0, 1) })
    .map((t) => new Date(t));
  const duration = fc.integer({ min: 0, max: 90 * HOUR });
  const zone = fc.constantFrom(
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Sydney',
    'Asia/Kolkata',
  );

  it('property: the business time between a start and start + d is d', () => {
    fc.assert(
      fc.property(zone, instant, duration, (z, start, d) => {
        const cal = weekdays(z);
        const end = addBusinessTime(cal, start, d);
        expect(businessTimeBetween(cal, start, end)).toBe(d);
      }),
      { numRuns: 300 },
    );
  });

  it('property: more business time never ends earlier, and a deadline falls inside business hours', () => {
    fc.assert(
      fc.property(zone, instant, duration, duration, (z, start, a, b) => {
        const cal = weekdays(z);
        const [short, long] = a <= b ? [a, b] : [b, a];
        const endShort = addBusinessTime(cal, start, short);
        const endLong = addBusinessTime(cal, start, long);
        expect(endShort.getTime()).toBeLessThanOrEqual(endLong.getTime());
        // The end is open, or the very end of an open stretch (closing time).
        if (long > 0) expect(isOpen(cal, endLong) || isOpen(cal, new Date(endLong.getTime() - 1))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('property: adding in two steps equals adding at once', () => {
    fc.assert(
      fc.property(zone, instant, duration, duration, (z, start, a, b) => {
        const cal = weekdays(z);
        const once = addBusinessTime(cal, start, a + b);
        const twice = addBusinessTime(cal, addBusinessTime(cal, start, a), b);
        // Equal, except that stopping exactly at closing time then continuing resumes at the next opening.
        expect(businessTimeBetween(cal, start, twice)).toBe(a + b);
        expect(businessTimeBetween(cal, start, once)).toBe(a + b);
      }),
      { numRuns: 200 },
    );
  });

  it('property: a calendar asked about many instants, far apart and in any order, answers as a fresh one', () => {
    // One calendar lives as long as the config, and its table of days grows at both ends and
    // starts again far away; a new calendar object starts with an empty table.
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
    const shared = new Map(zones.map((z) => [z, weekdays(z, ['2026-12-24', '2031-01-01'])]));
    const anywhere = fc.integer({ min: Date.parse('2020-01-01'), max: Date.parse('2034-01-01') });
    fc.assert(
      fc.property(fc.constantFrom(...zones), anywhere, fc.integer({ min: 0, max: 400 * HOUR }), (z, t, d) => {
        const cal = shared.get(z) as Calendar;
        const fresh = () => weekdays(z, ['2026-12-24', '2031-01-01']);
        const start = new Date(t);
        expect(addBusinessTime(cal, start, d).getTime()).toBe(addBusinessTime(fresh(), start, d).getTime());
        const end = new Date(t + d);
        expect(businessTimeBetween(cal, start, end)).toBe(businessTimeBetween(fresh(), start, end));
        expect(isOpen(cal, end)).toBe(isOpen(fresh(), end));
      }),
      { numRuns: 300 },
    );
  });
});
