import { describe } from 'vitest';

/**
 * These files run under vitest.reliability.config.ts (`npm run test:reliability`), which sets
 * CAREBOT_RELIABILITY. vitest.config.ts excludes them; the gate keeps them skipped should another
 * config pick them up, so the everyday suite stays fast.
 */
export const reliability = describe.skipIf(!process.env.CAREBOT_RELIABILITY);

/** Prints a figure line that docs/RELIABILITY.md quotes. */
export function figure(test: string, figures: Record<string, unknown>): void {
  console.log(`[reliability] ${test}: ${JSON.stringify(figures)}`);
}
