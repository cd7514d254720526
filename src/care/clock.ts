/** Where carebot reads the time; tests pass a clock they move by hand. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A length of time in milliseconds; the brand keeps bare numbers of unknown unit out. */
export type Duration = number & { readonly __unit: 'ms' };

export const milliseconds = (n: number) => n as Duration;
export const seconds = (n: number) => (n * 1000) as Duration;
export const minutes = (n: number) => (n * 60_000) as Duration;
export const hours = (n: number) => (n * 3_600_000) as Duration;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses the config file's durations: `90s`, `15m`, `1h`, `2d` (and `500ms`). */
export function parseDuration(text: string): Duration | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return (Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]) as Duration;
}

export function formatDuration(d: Duration): string {
  if (d % 86_400_000 === 0) return `${d / 86_400_000}d`;
  if (d % 3_600_000 === 0) return `${d / 3_600_000}h`;
  if (d % 60_000 === 0) return `${d / 60_000}m`;
  if (d % 1000 === 0) return `${d / 1000}s`;
  return `${d}ms`;
}

export const addDuration = (at: Date, d: Duration) => new Date(at.getTime() + d);
