import {
  type AssignmentSettings,
  Availability,
  assignmentPool,
  rotationFrom,
  type Whereabouts,
} from '../care/assignment.js';
import {
  assignCase,
  casesToAssign,
  endNobodyStretch,
  leaseRotation,
  nobodyAvailable,
  openCasesOwned,
  releaseRotation,
} from '../care/assignment-store.js';
import { type Clock, type Duration, minutes, seconds } from '../care/clock.js';
import type { Permissions } from '../care/permissions.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { autoAssignedText, nobodyAvailableText } from '../slack/assignment.js';
import { Job } from './job.js';

export interface AutoAssignOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  permissions: Permissions;
  whereabouts: Whereabouts;
  settings: AssignmentSettings & { after: Duration };
  /** The Slack sync should post what was queued (thread messages, card updates, a channel notice). */
  onChange: () => void;
  schedule?: string;
}

/** Cases looked at per round; more wait for the next round, which follows at once. */
const BATCH = 25;
/** Long enough for a round's Slack lookups (each times out well inside it). */
const LEASE = minutes(2);

/**
 * Hands unclaimed cases to the next available person of the care team (assignment.mode
 * `round_robin`). One instance at a time holds the round robin; each case is assigned at most once
 * in its life (a case someone unclaims stays with the team), and the thread is told who has it.
 * When nobody is available the cases wait for the next round and their channel is told once.
 */
export class AutoAssign extends Job {
  private unsureSaid = false;

  constructor(private readonly opts: AutoAssignOptions) {
    super(opts.logger, 'auto-assign');
  }

  start(): void {
    this.schedule(this.opts.schedule ?? '*/30 * * * * *');
  }

  /**
   * A case just opened: a P1 is assigned now, any other when its wait is over (a timer in this
   * process; the schedule catches what a restart or another instance's case left).
   */
  caseOpened(): void {
    this.kick();
    this.kickAfter(this.opts.settings.after + seconds(1));
  }

  protected async round(): Promise<boolean> {
    const { assigned, waiting } = await this.runOnce();
    return assigned > 0 && waiting >= BATCH;
  }

  /** One round; what it assigned and how many due cases it looked at. */
  async runOnce(): Promise<{ assigned: number; waiting: number; told: string[] }> {
    const { db, clock, settings } = this.opts;
    const now = clock.now();
    const lease = await leaseRotation(db, now, LEASE);
    if (!lease) return { assigned: 0, waiting: 0, told: [] };
    try {
      const waiting = await casesToAssign(db, now, settings.after, BATCH);
      if (waiting.length === 0) {
        await endNobodyStretch(db, lease, now);
        return { assigned: 0, waiting: 0, told: [] };
      }
      let pool: string[];
      try {
        pool = await assignmentPool(settings, this.opts.whereabouts);
      } catch (err) {
        this.opts.logger.warn(
          { err },
          'could not read who is on the care team; cases wait for the next round',
        );
        return { assigned: 0, waiting: waiting.length, told: [] };
      }
      const availability = new Availability(
        settings,
        this.opts.permissions,
        this.opts.whereabouts,
        await openCasesOwned(db, pool),
        now,
      );
      let assigned = 0;
      const unassigned = [];
      for (const c of waiting) {
        const userId = await this.nextAvailable(pool, lease.lastUserId, availability);
        if (!userId) {
          // Nobody is left for this round: capacity only fills up as it goes.
          unassigned.push(...waiting.slice(waiting.indexOf(c)));
          break;
        }
        const outcome = await assignCase(db, {
          caseId: c.id,
          userId,
          lease,
          now,
          slackText: autoAssignedText(userId),
        });
        if (outcome === 'lease_lost') break;
        if (outcome === 'assigned') {
          assigned += 1;
          lease.lastUserId = userId;
          lease.nobodySince = null;
          availability.assigned(userId);
          this.opts.logger.info({ caseId: c.id, userId }, 'case assigned automatically');
        }
      }
      let told: string[] = [];
      if (unassigned.length > 0 && assigned === 0) {
        if (availability.unsure) {
          // Once until a round can check again, not every 30 seconds (each failed lookup is logged).
          if (!this.unsureSaid)
            this.opts.logger.warn(
              { waiting: unassigned.length },
              'could not check whether anyone is available; cases wait for the next round',
            );
          this.unsureSaid = true;
        } else {
          told = await nobodyAvailable(db, { lease, now, waiting: unassigned, text: nobodyAvailableText });
        }
      }
      if (!availability.unsure) this.unsureSaid = false;
      if (assigned > 0 || told.length > 0) this.opts.onChange();
      return { assigned, waiting: waiting.length, told };
    } finally {
      await releaseRotation(db, lease);
    }
  }

  private async nextAvailable(
    pool: readonly string[],
    last: string | null,
    availability: Availability,
  ): Promise<string | undefined> {
    for (const userId of rotationFrom(pool, last)) {
      if ((await availability.check(userId)) === 'available') return userId;
    }
    return undefined;
  }
}
