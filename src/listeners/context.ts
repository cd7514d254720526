import type { Clock } from '../care/clock.js';
import type { SlaSettings } from '../care/sla.js';
import type { ToneRules } from '../care/tone.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { People } from '../slack/people.js';

/** What every listener needs: the database, the clock, config, and a way to nudge the Slack sync. */
export interface ListenerContext {
  db: Database;
  clock: Clock;
  config: Config;
  logger: Logger;
  kickSync: () => void;
  /** Asks the reply delivery job to look again at `at` (the end of an undo window). */
  deliverAt: (at: Date) => void;
  people: People;
  tone: ToneRules;
  sla: SlaSettings;
}

/** The case id a button carries as its value, or undefined if it is not one. */
export function caseIdFrom(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
