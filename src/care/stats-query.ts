import { type SQL, sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import { type Database, queryRows } from '../db/client.js';
import { ts } from '../db/tx.js';
import { type Duration, milliseconds } from './clock.js';
import type { StatsFilter } from './stats-filter.js';
import type { Range, StatsPeriod } from './stats-period.js';

/** What every stats aggregate is built from: the request, the periods in SQL, the row readers. */

export interface StatsRequest {
  period: StatsPeriod;
  filter: StatsFilter;
  now: Date;
  businessHours: Config['businessHours'];
}

/** `hits` out of `of`; the share is shown only when `of` is not 0. */
export interface Share {
  hits: number;
  of: number;
}

export interface Versus<T> {
  current: T;
  previous: T;
}

export interface CountBy {
  key: string;
  current: number;
  previous: number;
}

export type Row = Record<string, unknown>;

/**
 * Runs one of the stats aggregates. JIT is off for it: compiling these one-off queries costs
 * PostgreSQL more (over 100 ms each at a million cases) than it saves, and a little more sort
 * memory keeps the percentile sorts of a month off the disk. careStats runs a dozen of them side
 * by side, which keeps the cores busy already: parallel workers on top only add their start and
 * their contention (30d at 1 M cases on 2 cores: 395 ms without, 464 ms with, #20), so they are
 * off unless `parallel` (a statement that runs alone, the CSV export). The settings end with the
 * transaction.
 */
export async function aggregate(db: Database, query: SQL, opts: { parallel?: boolean } = {}): Promise<Row[]> {
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('jit', 'off', true), set_config('work_mem', '32MB', true)${
        opts.parallel ? sql`` : sql`, set_config('max_parallel_workers_per_gather', '0', true)`
      }`,
    );
    return queryRows<Row>(tx, query);
  });
}

export const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

export const seconds = (v: unknown): Duration | null =>
  v === null || v === undefined ? null : milliseconds(Math.round(Number(v) * 1000));

export const share = (hits: unknown, of: unknown): Share => ({ hits: num(hits), of: num(of) });

export const epochMs = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`;

/** `column` falls in the current or the previous period (one index range scan). */
export function inPeriods(column: SQL, p: StatsPeriod): SQL {
  return sql`${column} >= ${ts(p.previous.start)} and ${column} < ${ts(p.current.end)}
    and (${column} >= ${ts(p.current.start)} or ${column} < ${ts(p.previous.end)})`;
}

/**
 * One aggregate row per period, current then previous: `select` gets whether it is the current
 * period and the period's range on `column` (one index range scan each), and selects `is_current`
 * itself. Cheaper than `group by is_current` over both periods, which sorts every row first
 * because an ordered-set aggregate (`percentile_cont`) cannot be hashed.
 */
export function eachPeriod(
  column: SQL,
  p: StatsPeriod,
  select: (current: boolean, inPeriod: SQL) => SQL,
): SQL {
  const range = (r: Range) => sql`${column} >= ${ts(r.start)} and ${column} < ${ts(r.end)}`;
  return sql`(${select(true, range(p.current))}) union all (${select(false, range(p.previous))})`;
}

/** `true` or `false` in SQL, as a literal (a parameter would have no type). */
export const bool = (b: boolean) => sql.raw(String(b));

export function inCurrent(column: SQL, p: StatsPeriod): SQL {
  return sql`${column} >= ${ts(p.current.start)} and ${column} < ${ts(p.current.end)}`;
}

/**
 * True for local times (a `timestamp` in the stats time zone: `at time zone`, worked out once per
 * row by the caller) outside the business-hours calendar, holidays included, in SQL. `date_part`
 * rather than `extract`, which computes in numeric: the same whole numbers, a fraction of the cost
 * over a month of cases.
 */
export function outsideBusinessHoursLocal(local: SQL, bh: Config['businessHours']): SQL {
  if (bh === 'always') return sql`false`;
  const days = bh.days.map((d) => ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].indexOf(d) + 1);
  const open = sql`date_part('isodow', ${local}) in (${sql.raw(days.join(', '))})
    and ${local}::time >= ${bh.start}::time and ${local}::time < ${bh.end}::time`;
  const holidays = bh.holidays.length
    ? sql` and ${local}::date not in (${sql.join(
        bh.holidays.map((h) => sql`${h}::date`),
        sql`, `,
      )})`
    : sql``;
  return sql`not (${open}${holidays})`;
}

/** Rows of (dow: ISO weekday 1–7, hour 0–23, n) as a [weekday − 1][hour] grid of counts. */
export function hourGrid(rows: Row[]): number[][] {
  const grid = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  for (const r of rows) {
    const day = grid[num(r.dow) - 1];
    if (day) day[num(r.hour)] = num(r.n);
  }
  return grid;
}

export function pickPeriods(rows: Row[]): { current: Row | undefined; previous: Row | undefined } {
  return {
    current: rows.find((r) => r.is_current === true),
    previous: rows.find((r) => r.is_current === false),
  };
}

export const byCurrentThenKey = (a: CountBy, b: CountBy) =>
  b.current - a.current || b.previous - a.previous || a.key.localeCompare(b.key);
