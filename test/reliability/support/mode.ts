/**
 * The two forms of the reliability suite. By default it runs the figures (Slack down for
 * two minutes, five minutes of two instances, …: about ten minutes). RELIABILITY_SHORT=1 (CI, via
 * `npm run test:reliability:short`) shrinks durations and volumes so the whole suite takes about a
 * minute and a half on a loaded two-core machine; each scenario still injects its fault.
 * Any single figure can be set by its own variable.
 */
export const SHORT = process.env.RELIABILITY_SHORT === '1';

/** A figure of the run: its variable if set, else the full or the short form's value. */
export function setting(name: string, full: number, short: number): number {
  const value = process.env[name];
  if (value !== undefined && value !== '') {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${value}`);
    return n;
  }
  return SHORT ? short : full;
}
