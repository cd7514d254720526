import { describe, expect, it } from 'vitest';
import { calendarFrom } from '../../src/care/business-hours.js';
import { resolutionDueAfterWaiting, type SlaSettings } from '../../src/care/sla.js';
import { canWaitOnCustomer } from '../../src/care/waiting.js';
import { durationInWords } from '../../src/jobs/auto-resolve.js';

const sla = (businessHours: 'weekdays' | 'always'): SlaSettings => ({
  calendar: calendarFrom({
    timezone: 'UTC',
    businessHours:
      businessHours === 'always'
        ? 'always'
        : { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', holidays: [] },
  }),
  firstResponseMs: 3_600_000,
  nextResponseMs: 3_600_000,
  resolutionMs: 86_400_000,
  unclaimedAfterMs: null,
  responseWarnings: [50, 80],
  resolutionWarningsMs: [],
  remindOutsideHours: false,
  lateAfterMs: 300_000,
  priorities: {},
});
const at = (iso: string) => new Date(iso);

describe('waiting on the customer', () => {
  it('moves the resolution deadline by the business time spent waiting', () => {
    // Waited Friday 17:00 to Monday 10:00: two business hours (Fri 17–18, Mon 9–10), not 65.
    const due = resolutionDueAfterWaiting(
      { resolutionDueAt: at('2026-11-30T12:00:00Z'), waitingSince: at('2026-11-27T17:00:00Z') },
      at('2026-11-30T10:00:00Z'),
      sla('weekdays'),
    );
    expect(due?.toISOString()).toBe('2026-11-30T14:00:00.000Z');
    const always = resolutionDueAfterWaiting(
      { resolutionDueAt: at('2026-11-30T12:00:00Z'), waitingSince: at('2026-11-27T17:00:00Z') },
      at('2026-11-30T10:00:00Z'),
      sla('always'),
    );
    expect(always?.toISOString()).toBe('2026-12-03T05:00:00.000Z');
  });

  it('keeps a deadline that had passed before the wait began (its breach is not repeated)', () => {
    const passed = at('2026-11-24T12:00:00Z');
    expect(
      resolutionDueAfterWaiting(
        { resolutionDueAt: passed, waitingSince: at('2026-11-24T13:00:00Z') },
        at('2026-11-25T10:00:00Z'),
        sla('weekdays'),
      ),
    ).toBe(passed);
    expect(
      resolutionDueAfterWaiting(
        { resolutionDueAt: null, waitingSince: passed },
        at('2026-11-25T10:00:00Z'),
        sla('weekdays'),
      ),
    ).toBeNull();
  });

  it('applies only to an open case whose last message is the answer that reached the customer', () => {
    const base = {
      status: 'open' as const,
      waitingSince: null,
      lastReplyAt: at('2026-11-23T10:05:00Z'),
      lastCustomerMessageAt: at('2026-11-23T10:00:00Z'),
    };
    expect(canWaitOnCustomer(base)).toBe(true);
    expect(canWaitOnCustomer({ ...base, lastReplyAt: null })).toBe(false);
    expect(canWaitOnCustomer({ ...base, lastCustomerMessageAt: at('2026-11-23T10:06:00Z') })).toBe(false);
    expect(canWaitOnCustomer({ ...base, status: 'resolved' })).toBe(false);
    expect(canWaitOnCustomer({ ...base, waitingSince: at('2026-11-23T10:06:00Z') })).toBe(false);
  });

  it('says the auto-resolve period in words', () => {
    expect(durationInWords(3 * 86_400_000)).toBe('3 days');
    expect(durationInWords(86_400_000)).toBe('1 day');
    expect(durationInWords(36 * 3_600_000)).toBe('36 hours');
    expect(durationInWords(90 * 60_000)).toBe('90 minutes');
  });
});
