import { and, eq, isNull } from 'drizzle-orm';
import { logEvent } from '../care/case-store.js';
import type { Clock } from '../care/clock.js';
import { type Team, teamByKey } from '../care/teams.js';
import type { Database } from '../db/client.js';
import { cases, escalations, slackOutbox, slaReminders } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { slackDate } from '../slack/case-card.js';
import { teamMention } from '../slack/escalation.js';
import { escapeText, mentionUser } from '../slack/mrkdwn.js';
import { Job } from './job.js';

export interface EscalationSweepOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  teams: Team[];
  /** While a case waits on a team, remind its owner to keep the customer informed this often. */
  updateEveryMs: number;
  onChange: () => void;
  schedule?: string;
}

const DEFAULT_ACK_WITHIN = 30 * 60_000;

/**
 * Follows escalations up: a team that has not acknowledged within its `ack_within` is mentioned
 * again (once) and the owner told; while a case waits on a team, its owner is reminded every
 * `update_every` to keep the customer informed. Each reminder has a unique key, so parallel sweeps
 * and restarts send it once.
 */
export class EscalationSweep extends Job {
  constructor(private readonly opts: EscalationSweepOptions) {
    super(opts.logger, 'escalation sweep');
  }

  start(): void {
    this.schedule(this.opts.schedule ?? '*/30 * * * * *');
  }

  protected async round(): Promise<boolean> {
    await this.runOnce();
    return false;
  }

  /** One sweep; returns how many reminders were queued. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock.now();
    let queued = 0;
    // Open escalations are few (each waits on a person), so reading them all is cheap.
    const open = await db
      .select({ e: escalations, ownerId: cases.ownerId, status: cases.status })
      .from(escalations)
      .innerJoin(cases, eq(cases.id, escalations.caseId))
      .where(and(isNull(escalations.answeredAt), eq(cases.status, 'open')));
    open.sort((a, b) => a.e.createdAt.getTime() - b.e.createdAt.getTime());
    const remindedCases = new Set<number>();
    for (const { e, ownerId } of open) {
      const team = teamByKey(this.opts.teams, e.teamKey);
      const ackDue = e.createdAt.getTime() + (team.ackWithin ?? DEFAULT_ACK_WITHIN);
      if (!e.acknowledgedAt && !e.ackRemindedAt && now.getTime() >= ackDue) {
        const text = `:bell: ${teamMention(team)} please acknowledge the escalation from ${slackDate(e.createdAt)}${
          ownerId ? `; ${mentionUser(ownerId)} is waiting for ${escapeText(team.name)}` : ''
        }.`;
        if (await this.remind(e.caseId, `ack:${e.id}`, 'ack', now, new Date(ackDue), text)) {
          await db.update(escalations).set({ ackRemindedAt: now }).where(eq(escalations.id, e.id));
          queued += 1;
        }
      }
      const rounds = Math.floor((now.getTime() - e.createdAt.getTime()) / this.opts.updateEveryMs);
      // One update reminder per case, counted from the oldest escalation it waits on.
      if (rounds >= 1 && ownerId && !remindedCases.has(e.caseId)) {
        remindedCases.add(e.caseId);
        const text = `:speech_balloon: ${mentionUser(ownerId)} this case has waited on ${escapeText(team.name)} since ${slackDate(e.createdAt)}. Keep the customer informed: a short update beats silence.`;
        // Only the latest round: after downtime one reminder, not a backlog.
        const dueAt = new Date(e.createdAt.getTime() + rounds * this.opts.updateEveryMs);
        if (await this.remind(e.caseId, `update:${e.id}:${rounds}`, 'update', now, dueAt, text)) queued += 1;
      }
    }
    if (queued > 0) this.opts.onChange();
    return queued;
  }

  /** Queues a thread message once per key; false when it was already sent. */
  private async remind(caseId: number, key: string, stage: string, now: Date, dueAt: Date, text: string) {
    return this.opts.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(slaReminders)
        .values({
          caseId,
          key: `escalation:${key}`,
          clock: 'escalation',
          stage,
          dueAt,
          outcome: 'sent',
          text,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: slaReminders.id });
      if (!row) return false;
      await tx
        .insert(slackOutbox)
        .values({ caseId, key: `sla:${row.id}`, kind: 'sla', refId: row.id, createdAt: now })
        .onConflictDoNothing();
      await logEvent(
        tx,
        caseId,
        stage === 'ack' ? 'escalation_ack_reminded' : 'update_reminded',
        'carebot',
        now,
        { key },
      );
      return true;
    });
  }
}
