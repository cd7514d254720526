/**
 * A node-cron expression that fires about every `ms` (rounded to whole seconds or minutes, as
 * cron counts): 30 s → every 30 seconds, 2 m → every 2 minutes.
 */
export function cronEvery(ms: number): string {
  const secs = Math.max(1, Math.round(ms / 1000));
  if (secs < 60) return `*/${secs} * * * * *`;
  const mins = Math.max(1, Math.round(secs / 60));
  if (mins < 60) return `0 */${mins} * * * *`;
  const hrs = Math.max(1, Math.round(mins / 60));
  return `0 0 */${Math.min(hrs, 23)} * * *`;
}
