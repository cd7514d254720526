import { DateTime } from 'luxon';
import type { CareConfig } from '../config/care.js';

/**
 * The business-hours calendar SLA deadlines are counted on: weekdays with opening and closing
 * times in one time zone, minus holidays; or `always`. All arithmetic happens on the zone's wall
 * clock (luxon), so a deadline is right across daylight-saving changes: an hour of business time
 * is an hour of the clock on the office wall.
 */
export type Calendar =
  | { kind: 'always' }
  | {
      kind: 'hours';
      zone: string;
      /** ISO weekdays that are open: 1 = Monday … 7 = Sunday. */
      days: Set<number>;
      /** Minutes after local midnight. */
      openMinute: number;
      closeMinute: number;
      /** Local dates (YYYY-MM-DD) that are closed. */
      holidays: Set<string>;
    };

const WEEKDAYS: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };

const minuteOf = (hhmm: string) => {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

export function calendarFrom(config: Pick<CareConfig, 'timezone' | 'businessHours'>): Calendar {
  const bh = config.businessHours;
  if (bh === 'always') return { kind: 'always' };
  return {
    kind: 'hours',
    zone: config.timezone,
    days: new Set(bh.days.map((d) => WEEKDAYS[d] ?? 0)),
    openMinute: minuteOf(bh.start),
    closeMinute: minuteOf(bh.end),
    holidays: new Set(bh.holidays),
  };
}

/** The open interval of the local day containing `day`, as instants; undefined when closed. */
function openInterval(
  cal: Extract<Calendar, { kind: 'hours' }>,
  day: DateTime,
): [number, number] | undefined {
  if (!cal.days.has(day.weekday) || cal.holidays.has(day.toISODate() ?? '')) return undefined;
  if (cal.closeMinute <= cal.openMinute) return undefined;
  const midnight = day.startOf('day');
  const open = midnight.set({ hour: Math.floor(cal.openMinute / 60), minute: cal.openMinute % 60 });
  const close = midnight.set({ hour: Math.floor(cal.closeMinute / 60), minute: cal.closeMinute % 60 });
  return [open.toMillis(), close.toMillis()];
}

/** At most this many days are searched for the next open hour (a calendar with no open day). */
const MAX_DAYS = 3 * 366;

/** Whether the calendar is open at `at`. */
export function isOpen(cal: Calendar, at: Date): boolean {
  if (cal.kind === 'always') return true;
  const day = DateTime.fromJSDate(at, { zone: cal.zone });
  const interval = openInterval(cal, day);
  const t = at.getTime();
  return Boolean(interval && t >= interval[0] && t < interval[1]);
}

/**
 * `start` plus `durationMs` of business time: Friday 17:30 + 1 h is Monday 09:30 on a Mon–Fri
 * 09:00–18:00 calendar. A start outside business hours counts from the next opening.
 */
export function addBusinessTime(cal: Calendar, start: Date, durationMs: number): Date {
  if (cal.kind === 'always') return new Date(start.getTime() + durationMs);
  let remaining = durationMs;
  let day = DateTime.fromJSDate(start, { zone: cal.zone }).startOf('day');
  let cursor = start.getTime();
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 })) {
    const interval = openInterval(cal, day);
    if (!interval) continue;
    const from = Math.max(cursor, interval[0]);
    if (from >= interval[1]) continue;
    const available = interval[1] - from;
    if (remaining <= available) return new Date(from + remaining);
    remaining -= available;
    cursor = interval[1];
  }
  throw new Error('the business-hours calendar has no open time in the next three years');
}

/** Business time between two instants (0 when `to` is not after `from`). */
export function businessTimeBetween(cal: Calendar, from: Date, to: Date): number {
  if (to.getTime() <= from.getTime()) return 0;
  if (cal.kind === 'always') return to.getTime() - from.getTime();
  let total = 0;
  let day = DateTime.fromJSDate(from, { zone: cal.zone }).startOf('day');
  const end = to.getTime();
  for (let i = 0; i < MAX_DAYS * 10 && day.toMillis() < end; i++, day = day.plus({ days: 1 })) {
    const interval = openInterval(cal, day);
    if (!interval) continue;
    const a = Math.max(from.getTime(), interval[0]);
    const b = Math.min(end, interval[1]);
    if (b > a) total += b - a;
  }
  return total;
}

/** The next instant at or after `at` when the calendar is open. */
export function nextOpening(cal: Calendar, at: Date): Date {
  return addBusinessTime(cal, at, 0);
}
