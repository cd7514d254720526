import { eq, sql } from 'drizzle-orm';
import { escalateCase, getCase, logEvent, setPriority, ts } from '../care/cases.js';
import type { Clock } from '../care/clock.js';
import { announce } from '../care/escalations.js';
import { assess, higher } from '../care/priority.js';
import { planSweep, type SlaSettings, type Stage, stageKey } from '../care/sla.js';
import type { EscalationRule, Team } from '../config.js';
import { type Database, queryRows } from '../db/client.js';
import { type CaseRow, cases, slackOutbox, slaReminders } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { slackDate } from '../slack/case-card.js';
import { mentionUser, mentionUsergroup } from '../slack/mrkdwn.js';
import { Job } from './job.js';

export interface SlaSweepOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  settings: SlaSettings;
  careTeamUsergroup: string | null;
  managersUsergroup: string | null;
  teams: Team[];
  /** On a breach, escalate to this team. */
  breachEscalateTo: string | null;
  /** Escalation rules; those `when: sla_breach` apply on every breach. */
  rules?: EscalationRule[];
  /** After a first-response breach, an owned case goes back to the team. */
  releaseOnBreach?: boolean;
  onChange: () => void;
  /** node-cron expression; defaults to every `check_every`. */
  schedule: string;
  batchSize?: number;
}

/** The row that records one stage of one clock cycle, once (its key is unique). */
function reminderRow(
  caseId: number,
  stage: Stage,
  outcome: 'sent' | 'late' | 'skipped',
  text: string,
  now: Date,
): typeof slaReminders.$inferInsert {
  return {
    caseId,
    key: stageKey(caseId, stage),
    clock: stage.clock,
    stage: stage.stage,
    dueAt: stage.at,
    outcome,
    text,
    createdAt: now,
  };
}

const CLOCK_NAMES: Record<Stage['clock'], string> = {
  unclaimed: 'claim',
  first_response: 'first answer',
  next_response: 'next answer',
  resolution: 'resolution',
};

/**
 * Reminds people before SLA deadlines pass, and marks breaches. Reads only cases whose next check
 * is due (an indexed column), leases them with `FOR UPDATE SKIP LOCKED`, and records each stage
 * under a unique key, so parallel sweeps and restarts send every reminder once.
 */
export class SlaSweep extends Job {
  constructor(private readonly opts: SlaSweepOptions) {
    super(opts.logger, 'SLA sweep');
  }

  start(): void {
    this.schedule(this.opts.schedule);
  }

  protected async round(): Promise<boolean> {
    return (await this.runOnce()) >= (this.opts.batchSize ?? 100);
  }

  /** One sweep over the cases that are due; returns how many were looked at. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock.now();
    const leaseUntil = new Date(now.getTime() + 60_000);
    const due = await queryRows<{ id: number }>(
      db,
      sql`update ${cases} set sla_next_check_at = ${ts(leaseUntil)}
          where id in (
            select id from ${cases}
            where sla_next_check_at <= ${ts(now)}
            order by sla_next_check_at
            limit ${this.opts.batchSize ?? 100}
            for update skip locked)
          returning id`,
    );
    let changed = false;
    for (const { id } of due) {
      changed = (await this.sweepCase(Number(id), now)) || changed;
    }
    if (changed) this.opts.onChange();
    return due.length;
  }

  private async sweepCase(caseId: number, now: Date): Promise<boolean> {
    const { db, settings } = this.opts;
    const breaches: Stage[] = [];
    const changed = await db.transaction(async (tx) => {
      const [c] = await tx.select().from(cases).where(eq(cases.id, caseId));
      if (!c) return false;
      const handledRows = await tx
        .select({ key: slaReminders.key })
        .from(slaReminders)
        .where(eq(slaReminders.caseId, caseId));
      const plan = planSweep(caseId, c, settings, new Set(handledRows.map((r) => r.key)), now);
      for (const stage of plan.skip) {
        await tx
          .insert(slaReminders)
          .values(reminderRow(caseId, stage, 'skipped', '', now))
          .onConflictDoNothing();
      }
      let sent = false;
      let state = c.slaState;
      for (const stage of plan.send) {
        const text = this.reminderText(c, stage);
        const [reminder] = await tx
          .insert(slaReminders)
          .values(reminderRow(caseId, stage, stage.late ? 'late' : 'sent', text, now))
          .onConflictDoNothing()
          .returning({ id: slaReminders.id });
        if (!reminder) continue;
        sent = true;
        await tx
          .insert(slackOutbox)
          .values({ caseId, key: `sla:${reminder.id}`, kind: 'sla', refId: reminder.id, createdAt: now })
          .onConflictDoNothing();
        const type =
          stage.level === 'breach'
            ? 'sla_breached'
            : stage.clock === 'unclaimed'
              ? 'sla_nudged'
              : 'sla_warned';
        await logEvent(tx, caseId, type, 'carebot', now, {
          clock: stage.clock,
          stage: stage.stage,
          dueAt: stage.at.toISOString(),
          ...(stage.late ? { late: true } : {}),
        });
        if (stage.level === 'breach') {
          state = 'breached';
          breaches.push(stage);
          if (stage.clock === 'first_response' && c.ownerId && this.opts.releaseOnBreach) {
            // The owner did not answer in time (they were reminded at 80 %): the team gets it back.
            await tx
              .update(cases)
              .set({ ownerId: null, cardVersion: sql`${cases.cardVersion} + 1` })
              .where(eq(cases.id, caseId));
            await announce(tx, {
              caseId,
              type: 'released',
              actor: 'carebot',
              at: now,
              data: { from: c.ownerId, clock: stage.clock },
              slackText: `:arrows_counterclockwise: ${mentionUser(c.ownerId)} has not answered in time, so case #${c.id} is unclaimed again. ${this.careTeam()} whoever can answer first, claim it.`,
            });
          }
        } else if (stage.level === 'mention' && stage.clock !== 'unclaimed' && state === 'ok') {
          state = 'at_risk';
        }
      }
      await tx
        .update(cases)
        .set({
          slaNextCheckAt: plan.nextCheckAt ?? null,
          ...(state !== c.slaState ? { slaState: state, cardVersion: sql`${cases.cardVersion} + 1` } : {}),
        })
        .where(eq(cases.id, caseId));
      return sent;
    });
    for (const stage of breaches) await this.applyBreachRule(caseId, stage);
    return changed;
  }

  /** The breach rules: escalate to the configured teams and raise the priority, once per breached clock cycle. */
  private async applyBreachRule(caseId: number, stage: Stage): Promise<void> {
    const hits = assess(
      { text: '' },
      (this.opts.rules ?? []).filter((r) => r.when === 'sla_breach'),
      { breach: true },
    );
    for (const { team, rule } of hits.escalate) {
      await escalateCase(this.opts.db, this.opts.clock, {
        caseId,
        teamKey: team,
        note: `The ${CLOCK_NAMES[stage.clock]} deadline passed (SLA breach).`,
        userId: 'carebot',
        requestKey: `sla:${stageKey(caseId, stage)}:rule${rule}`,
      });
    }
    const rulePriority = (this.opts.rules ?? []).find((r) => r.when === 'sla_breach' && r.priority)?.priority;
    const current = rulePriority ? await getCase(this.opts.db, caseId) : undefined;
    if (rulePriority && current && higher(current.priority, rulePriority) !== current.priority) {
      await setPriority(this.opts.db, this.opts.clock, {
        caseId,
        priority: rulePriority,
        userId: 'carebot',
        sla: this.opts.settings,
      });
    }
    const teamKey = this.opts.breachEscalateTo;
    const team = teamKey ? this.opts.teams.find((t) => t.key === teamKey) : undefined;
    if (!team) return;
    const result = await escalateCase(this.opts.db, this.opts.clock, {
      caseId,
      teamKey: team.key,
      note: `The ${CLOCK_NAMES[stage.clock]} deadline passed (SLA breach).`,
      userId: 'carebot',
      requestKey: `sla:${stageKey(caseId, stage)}`,
    });
    if (result.kind === 'escalated')
      this.opts.logger.info({ caseId, team: team.key }, 'SLA breach escalated');
  }

  private careTeam(): string {
    return this.opts.careTeamUsergroup ? mentionUsergroup(this.opts.careTeamUsergroup) : 'Care team';
  }

  private reminderText(c: CaseRow, stage: Stage & { late: boolean }): string {
    const late = stage.late ? ' _(late: carebot was not running when this was due)_' : '';
    const who = c.ownerId ? mentionUser(c.ownerId) : this.careTeam();
    const name = CLOCK_NAMES[stage.clock];
    const due =
      stage.clock === 'first_response'
        ? c.firstResponseDueAt
        : stage.clock === 'next_response'
          ? c.nextResponseDueAt
          : c.resolutionDueAt;
    const dueText = due ? slackDate(due) : 'soon';
    if (stage.clock === 'unclaimed') {
      return `:wave: ${this.careTeam()} case #${c.id} has no owner yet. Claim it so the customer gets an answer.${late}`;
    }
    if (stage.level === 'quiet') {
      return `:hourglass_flowing_sand: ${stage.stage.replace('pct', ' %')} of the time for the ${name} has passed; it is due ${dueText}.${late}`;
    }
    if (stage.level === 'mention') {
      return `:warning: ${who} the ${name} on case #${c.id} is due ${dueText}.${late}`;
    }
    const managers = this.opts.managersUsergroup ? `${mentionUsergroup(this.opts.managersUsergroup)} ` : '';
    const owner = c.ownerId ? `Owner: ${mentionUser(c.ownerId)}.` : 'Nobody has claimed it.';
    return `:red_circle: ${managers}case #${c.id} missed its ${name} deadline (${dueText}). ${owner}${late}`;
  }
}
