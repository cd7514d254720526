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

type HoursCalendar = Extract<Calendar, { kind: 'hours' }>;

/**
 * A calendar's consecutive local days, each with the instant it starts and its open interval,
 * worked out with luxon once and then read by index: every stored complaint computes two deadlines,
 * and walking the days with luxon each time was a twentieth of storing one (docs/BENCHMARKS.md).
 * Grows at either end as instants outside it are asked for; started again when it would pass
 * `MAX_TABLE_DAYS`.
 */
interface DayTable {
  /** starts[i]: the instant day i begins (local midnight); one more entry than `open`. */
  starts: number[];
  open: Array<[number, number] | undefined>;
  first: DateTime;
  last: DateTime;
}

const MAX_TABLE_DAYS = 4 * 366;
const tables = new WeakMap<HoursCalendar, DayTable>();

function tableFrom(cal: HoursCalendar, at: number): DayTable {
  const day = DateTime.fromMillis(at, { zone: cal.zone }).startOf('day');
  const next = day.plus({ days: 1 });
  const table = {
    starts: [day.toMillis(), next.toMillis()],
    open: [openInterval(cal, day)],
    first: day,
    last: next,
  };
  tables.set(cal, table);
  return table;
}

/** The index of the day containing `at` in the calendar's table, the table grown (or started again) to hold it. */
function dayIndex(cal: HoursCalendar, at: number): { table: DayTable; index: number } {
  let table = tables.get(cal) ?? tableFrom(cal, at);
  const span = () => table.open.length;
  if (at < (table.starts[0] as number)) {
    // Earlier than the table: days are added in front, unless that makes it too long.
    const behind = Math.ceil(((table.starts[0] as number) - at) / 86_400_000) + 1;
    if (span() + behind > MAX_TABLE_DAYS) table = tableFrom(cal, at);
    else
      while (at < (table.starts[0] as number)) {
        const day = table.first.minus({ days: 1 });
        table.starts.unshift(day.toMillis());
        table.open.unshift(openInterval(cal, day));
        table.first = day;
      }
  } else if (at >= (table.starts[span()] as number)) {
    const ahead = Math.ceil((at - (table.starts[span()] as number)) / 86_400_000) + 1;
    if (span() + ahead > MAX_TABLE_DAYS) table = tableFrom(cal, at);
    else while (at >= (table.starts[span()] as number)) grow(cal, table);
  }
  // Binary search: the last day starting at or before `at`.
  let lo = 0;
  let hi = span() - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((table.starts[mid] as number) <= at) lo = mid;
    else hi = mid - 1;
  }
  return { table, index: lo };
}

/** Adds the day after the table's last one. */
function grow(cal: HoursCalendar, table: DayTable): void {
  const day = table.last;
  const next = day.plus({ days: 1 });
  table.open.push(openInterval(cal, day));
  table.starts.push(next.toMillis());
  table.last = next;
}

/** The open interval of day `index` of the table, growing it forward as needed (undefined when closed). */
function intervalAt(cal: HoursCalendar, table: DayTable, index: number): [number, number] | undefined {
  while (index >= table.open.length) grow(cal, table);
  return table.open[index];
}

/** Whether the calendar is open at `at`. */
export function isOpen(cal: Calendar, at: Date): boolean {
  if (cal.kind === 'always') return true;
  const t = at.getTime();
  const { table, index } = dayIndex(cal, t);
  const interval = table.open[index];
  return Boolean(interval && t >= interval[0] && t < interval[1]);
}

/**
 * `start` plus `durationMs` of business time: Friday 17:30 + 1 h is Monday 09:30 on a Mon–Fri
 * 09:00–18:00 calendar. A start outside business hours counts from the next opening.
 */
export function addBusinessTime(cal: Calendar, start: Date, durationMs: number): Date {
  if (cal.kind === 'always') return new Date(start.getTime() + durationMs);
  let remaining = durationMs;
  let cursor = start.getTime();
  const { table, index } = dayIndex(cal, cursor);
  for (let i = 0; i < MAX_DAYS; i++) {
    // The walk grows the table forward as far as it needs, even past MAX_TABLE_DAYS; the next
    // instant outside it starts the table again.
    const interval = intervalAt(cal, table, index + i);
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
  const end = to.getTime();
  const { table, index } = dayIndex(cal, from.getTime());
  for (let i = index; i < index + MAX_DAYS * 10; i++) {
    const interval = intervalAt(cal, table, i);
    if ((table.starts[i] as number) >= end) break;
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
