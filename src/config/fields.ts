import { z } from 'zod';
import { parseDuration } from '../care/clock.js';

/**
 * Field schemas shared by carebot.config.yaml's sections and the source modules' own parts. Each
 * says what to write when a value is wrong; values are never echoed back (some are secrets).
 */

const DURATION_HINT = 'expected a duration such as 90s, 15m, 1h or 2d';

/** `90s`, `15m`, `1h`, `2d`: milliseconds once parsed. */
export const duration = z.string({ error: DURATION_HINT }).transform((text, ctx) => {
  const parsed = parseDuration(text);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: DURATION_HINT });
    return z.NEVER;
  }
  return parsed;
});

export const slackChannelId = z
  .string()
  .regex(/^[CG][A-Z0-9]{2,}$/, 'expected a Slack channel id such as C0123ABCD (channel details → About)');
export const usergroupId = z
  .string()
  .regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user group id such as S0123ABCD');
export const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id such as U0123ABCD');
export const percent = z.number().int().min(1).max(99);
export const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day such as 09:00');
export const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export const timezone = z
  .string()
  .refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin or UTC');

/** Words or phrases a source searches for; none: every message. */
export const priority = z.enum(['P1', 'P2', 'P3'], { error: 'expected P1, P2 or P3' });

/**
 * `priority_by_rating` of the review sources: the least priority of a review by its stars, e.g.
 * `{ 1: P2, 2: P2 }` (the default). Stars without an entry get carebot's own assessment.
 */
export const priorityByRating = z
  .partialRecord(z.enum(['1', '2', '3', '4', '5'], { error: 'expected a star count from 1 to 5' }), priority)
  .prefault({ 1: 'P2', 2: 'P2' } as Record<string, 'P2'>)
  .meta({
    description:
      'the least priority of a review by its stars, e.g. `{ 1: P1, 2: P2 }`; stars without an entry get the usual assessment',
    default: '{ 1: P2, 2: P2 }',
  });

/** The priority a review of `stars` asks for under `map` (`priority_by_rating`), with its reason. */
export function ratingPriority(
  map: Partial<Record<string, 'P1' | 'P2' | 'P3'>>,
  stars: number,
): { at: 'P1' | 'P2' | 'P3'; reason: string } | undefined {
  const at = map[String(Math.round(stars))];
  return at ? { at, reason: `${Math.round(stars)}-star review` } : undefined;
}

export const keywords = z.array(z.string().min(1, 'a keyword must not be empty')).default([]);

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A source's default account from the environment is on when all of its variables are set; some of
 * them set is a mistake, reported with the rest (not only once the others are fixed).
 */
export function partlySet(env: Record<string, string>, group: readonly string[], what: string): string[] {
  const set = group.filter((name) => env[name]);
  if (set.length === 0 || set.length === group.length) return [];
  return group
    .filter((name) => !env[name])
    .map((name) => `${name}: missing: ${what} needs all of ${group.join(', ')}`);
}
