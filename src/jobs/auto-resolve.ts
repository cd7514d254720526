import { and, asc, eq, isNotNull, lte, sql } from 'drizzle-orm';
import { resolveCase } from '../care/case-lifecycle.js';
import { announce } from '../care/case-store.js';
import type { Clock, Duration } from '../care/clock.js';
import type { SlaSettings } from '../care/sla.js';
import { type Database, queryRows } from '../db/client.js';
import { cases } from '../db/schema.js';
import { ts } from '../db/tx.js';
import type { Logger } from '../logger.js';
import { slackDate } from '../slack/case-card.js';
import { mentionUser, mentionUsergroup } from '../slack/mrkdwn.js';
import { Job } from './job.js';

export interface AutoResolveOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** `auto_resolve.after`: a case waiting on its customer this long is resolved. */
  after: Duration;
  /** `auto_resolve.nudge_after`: its owner is reminded after this long; null: never. */
  nudgeAfter: Duration | null;
  sla: SlaSettings;
  careTeamUsergroup: string | null;
  onChange: () => void;
  /** node-cron expression; every minute by default. */
  schedule?: string;
  batchSize?: number;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** `3d` → "3 days", `36h` → "36 hours", `90m` → "90 minutes". */
export function durationInWords(ms: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? '' : 's'}`;
  if (ms % DAY === 0) return unit(ms / DAY, 'day');
  if (ms % HOUR === 0) return unit(ms / HOUR, 'hour');
  return unit(Math.round(ms / 60_000), 'minute');
}

/**
 * Cases waiting on their customer (care/waiting.ts): at `nudge_after` the owner is mentioned once in
 * the thread; at `after` the case is resolved as carebot, and the thread says how to undo it.
 * Both are counted in wall-clock time from the start of the wait: the silence is the customer's,
 * and customers answer in the evening and at the weekend, so "three days" means three days.
 *
 * Each step is one conditional UPDATE on the case (`waiting_nudged_at is null`, `waiting_since` unchanged),
 * so two instances never nudge or resolve a case twice, and a customer message that ends the wait
 * in the same moment wins: its transaction holds the row, and the UPDATE then finds the wait over.
 */
export class AutoResolve extends Job {
  constructor(private readonly opts: AutoResolveOptions) {
    super(opts.logger, 'auto-resolve');
  }

  start(): void {
    this.schedule(this.opts.schedule ?? '0 * * * * *');
  }

  protected async round(): Promise<boolean> {
    const { nudged, resolved } = await this.runOnce();
    return nudged + resolved >= (this.opts.batchSize ?? 100);
  }

  /** One round: nudges, then resolutions that are due; returns how many of each this instance did. */
  async runOnce(): Promise<{ nudged: number; resolved: number }> {
    const now = this.opts.clock.now();
    const nudged = this.opts.nudgeAfter === null ? 0 : await this.nudge(now, this.opts.nudgeAfter);
    const resolved = await this.resolve(now);
    if (nudged + resolved > 0) this.opts.onChange();
    return { nudged, resolved };
  }

  private async nudge(now: Date, nudgeAfter: Duration): Promise<number> {
    const { db, after } = this.opts;
    const nudgeBefore = new Date(now.getTime() - nudgeAfter);
    // A case whose resolution is due as well is not nudged first (after downtime): it is resolved.
    const resolveBefore = new Date(now.getTime() - after);
    return db.transaction(async (tx) => {
      const rows = await queryRows<{ id: number; owner_id: string | null; waiting_since: Date | string }>(
        tx,
        sql`update ${cases} set waiting_nudged_at = ${ts(now)}
            where id in (
              select id from ${cases}
              where waiting_since is not null and waiting_since <= ${ts(nudgeBefore)}
                and waiting_since > ${ts(resolveBefore)}
                and waiting_nudged_at is null and status = 'open'
              order by waiting_since
              limit ${this.opts.batchSize ?? 100}
              for update skip locked)
              and waiting_nudged_at is null
            returning id, owner_id, waiting_since`,
      );
      for (const row of rows) {
        const since = new Date(row.waiting_since);
        const who = row.owner_id ? mentionUser(row.owner_id) : this.careTeam();
        await announce(tx, {
          caseId: Number(row.id),
          type: 'waiting_nudged',
          actor: 'carebot',
          at: now,
          data: { since: since.toISOString() },
          slackText: `:bell: ${who} the customer has not answered since ${slackDate(since)}. carebot resolves case #${row.id} ${slackDate(new Date(since.getTime() + after))} unless they write; follow up with them, or press *No longer waiting* to keep it open.`,
        });
      }
      return rows.length;
    });
  }

  private async resolve(now: Date): Promise<number> {
    const { db, clock, after, sla } = this.opts;
    const due = await db
      .select({ id: cases.id, waitingSince: cases.waitingSince })
      .from(cases)
      .where(
        and(
          isNotNull(cases.waitingSince),
          lte(cases.waitingSince, new Date(now.getTime() - after)),
          eq(cases.status, 'open'),
        ),
      )
      .orderBy(asc(cases.waitingSince))
      .limit(this.opts.batchSize ?? 100);
    let resolved = 0;
    for (const { id, waitingSince } of due) {
      if (!waitingSince) continue;
      const result = await resolveCase(db, clock, id, 'carebot', sla, {
        onlyIfWaitingSince: waitingSince,
        data: { automatic: 'no_customer_answer', waitingSince: waitingSince.toISOString() },
        slackText: `:white_check_mark: Resolved automatically: no answer from the customer in ${durationInWords(after)} — *Reopen* to undo.`,
      });
      if (result.kind === 'resolved') {
        resolved += 1;
        this.opts.logger.info({ caseId: id }, 'case resolved automatically: no answer from the customer');
      }
    }
    return resolved;
  }

  private careTeam(): string {
    return this.opts.careTeamUsergroup ? mentionUsergroup(this.opts.careTeamUsergroup) : 'Care team';
  }
}
