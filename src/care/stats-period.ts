import { DateTime } from 'luxon';

/** The periods `/care-stats` and the weekly digest report on, and the period before each. */

export type PeriodName = 'today' | 'yesterday' | '7d' | '30d' | 'this-week' | 'last-week';

export type PeriodSpec = { kind: PeriodName } | { kind: 'range'; from: string; to: string };

/** Instants from `start` (inclusive) to `end` (exclusive). */
export interface Range {
  start: Date;
  end: Date;
}

export interface StatsPeriod {
  spec: PeriodSpec;
  current: Range;
  /** The period of the same length just before: the same local times, whole days earlier. */
  previous: Range;
  /** The local calendar days of the current period (YYYY-MM-DD), for the daily chart. */
  days: string[];
  zone: string;
}

/** The longest date range `/care-stats` takes. */
export const MAX_RANGE_DAYS = 366;

/** The period a spec names at `now`, in the stats time zone (the config's `timezone`). */
export function statsPeriod(spec: PeriodSpec, now: Date, zone: string): StatsPeriod {
  const local = DateTime.fromJSDate(now, { zone });
  const today = local.startOf('day');
  const monday = today.startOf('week');
  let start: DateTime;
  let end: DateTime;
  let lengthDays: number;
  switch (spec.kind) {
    case 'today':
      [start, end, lengthDays] = [today, local, 1];
      break;
    case 'yesterday':
      [start, end, lengthDays] = [today.minus({ days: 1 }), today, 1];
      break;
    case '7d':
      [start, end, lengthDays] = [today.minus({ days: 6 }), local, 7];
      break;
    case '30d':
      [start, end, lengthDays] = [today.minus({ days: 29 }), local, 30];
      break;
    case 'this-week':
      [start, end, lengthDays] = [monday, local, 7];
      break;
    case 'last-week':
      [start, end, lengthDays] = [monday.minus({ weeks: 1 }), monday, 7];
      break;
    case 'range': {
      start = DateTime.fromISO(spec.from, { zone }).startOf('day');
      const last = DateTime.fromISO(spec.to, { zone }).startOf('day');
      lengthDays = Math.round(last.diff(start, 'days').days) + 1;
      end = last.plus({ days: 1 });
      if (end > local) end = local;
      break;
    }
  }
  const days: string[] = [];
  for (let d = start.startOf('day'); d < end; d = d.plus({ days: 1 })) days.push(d.toISODate() ?? '');
  return {
    spec,
    current: { start: start.toJSDate(), end: end.toJSDate() },
    previous: {
      start: start.minus({ days: lengthDays }).toJSDate(),
      end: end.minus({ days: lengthDays }).toJSDate(),
    },
    days,
    zone,
  };
}
