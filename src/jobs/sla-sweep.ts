import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { setPriority } from '../care/case-lifecycle.js';
import { announce, getCase } from '../care/case-store.js';
import type { Clock } from '../care/clock.js';
import { escalateCase } from '../care/escalations.js';
import type { EscalationRule } from '../care/priority.js';
import { assess, higher } from '../care/priority.js';
import { planSweep, type SlaSettings, type Stage, stageKey } from '../care/sla.js';
import type { Team } from '../care/teams.js';
import { type Database, jsonRecords, queryRows } from '../db/client.js';
import { type CaseRow, caseEvents, cases, slackOutbox, slaReminders } from '../db/schema.js';
import { ts } from '../db/tx.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
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
  /** Counts each breach this sweep recorded (a breach is recorded once, by one sweep). */
  metrics?: Pick<Metrics, 'slaBreached'>;
  onChange: () => void;
  /** node-cron expression; defaults to every `check_every`. */
  schedule: string;
  batchSize?: number;
}

/** The row that records one stage of one clock cycle, once (its key is unique); column names. */
function reminderRow(
  caseId: number,
  stage: Stage,
  outcome: 'sent' | 'late' | 'skipped',
  text: string,
  now: Date,
) {
  return {
    case_id: caseId,
    key: stageKey(caseId, stage),
    clock: stage.clock,
    stage: stage.stage,
    due_at: stage.at,
    outcome,
    text,
    created_at: now,
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
    // One token for the whole sweep: only cases still leased under it are swept (a sweep that
    // stalled past its minute finds the cases taken over and leaves them to the new holder).
    const token = randomUUID();
    const due = await queryRows<{ id: number }>(
      db,
      sql`update ${cases} set sla_next_check_at = ${ts(leaseUntil)}, sla_lease_token = ${token}
          where id in (
            select id from ${cases}
            where sla_next_check_at <= ${ts(now)}
            order by sla_next_check_at
            limit ${this.opts.batchSize ?? 100}
            for update skip locked)
          returning id`,
    );
    if (due.length === 0) return 0;
    const ids = due.map((d) => Number(d.id));
    let changed: boolean;
    try {
      changed = await this.sweepCases(ids, token, now);
    } catch (err) {
      // One case whose data trips the sweep must not hold back the others: each alone, then.
      this.opts.logger.warn(
        { err, cases: ids.length },
        'SLA sweep batch failed; sweeping its cases one by one',
      );
      changed = false;
      for (const id of ids) {
        try {
          changed = (await this.sweepCases([id], token, now)) || changed;
        } catch (caseErr) {
          this.opts.logger.error({ err: caseErr, caseId: id }, 'SLA sweep failed for a case');
        }
      }
    }
    if (changed) this.opts.onChange();
    return due.length;
  }

  /**
   * Sweeps leased cases in one transaction of a few statements, whatever their number: the cases
   * and their handled stages are read at once, and the reminders, thread posts, events and new
   * check times written at once. Returns whether anything was sent.
   */
  private async sweepCases(ids: number[], token: string, now: Date): Promise<boolean> {
    const { db, settings } = this.opts;
    const breaches: Array<{ caseId: number; stage: Stage }> = [];
    const changed = await db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(cases)
        .where(and(inArray(cases.id, ids), eq(cases.slaLeaseToken, token)))
        .orderBy(cases.id)
        .for('update');
      if (rows.length < ids.length) {
        this.opts.logger.warn(
          { lost: ids.length - rows.length },
          'SLA lease lost on some cases before they were swept; another sweep has them',
        );
      }
      if (rows.length === 0) return false;
      ids = rows.map((c) => c.id);
      const handled = new Map<number, Set<string>>();
      const handledRows = await tx
        .select({ caseId: slaReminders.caseId, key: slaReminders.key })
        .from(slaReminders)
        .where(inArray(slaReminders.caseId, ids));
      for (const r of handledRows) {
        const keys = handled.get(r.caseId) ?? new Set<string>();
        keys.add(r.key);
        handled.set(r.caseId, keys);
      }
      const planned = rows.map((c) => ({
        c,
        plan: planSweep(c.id, c, settings, handled.get(c.id) ?? new Set(), now),
      }));
      const reminderRows = planned.flatMap(({ c, plan }) => [
        ...plan.skip.map((stage) => reminderRow(c.id, stage, 'skipped', '', now)),
        ...plan.send.map((stage) =>
          reminderRow(c.id, stage, stage.late ? 'late' : 'sent', this.reminderText(c, stage), now),
        ),
      ]);
      // A stage another sweep recorded first is not inserted, so it is not sent twice.
      const inserted = reminderRows.length
        ? await queryRows<{ id: number; key: string }>(
            tx,
            sql`insert into ${slaReminders} (case_id, key, clock, stage, due_at, outcome, text, created_at)
                select case_id, key, clock, stage, due_at, outcome, text, created_at
                from ${jsonRecords(reminderRows)} as r(case_id integer, key text, clock text, stage text,
                  due_at timestamptz, outcome text, text text, created_at timestamptz)
                on conflict (key) do nothing
                returning id, key`,
          )
        : [];
      const reminderIds = new Map(inserted.map((r) => [r.key, Number(r.id)]));
      const outboxRows: Array<Record<string, unknown>> = [];
      const eventRows: Array<Record<string, unknown>> = [];
      const released: CaseRow[] = [];
      const updates: Array<Record<string, unknown>> = [];
      for (const { c, plan } of planned) {
        let state = c.slaState;
        for (const stage of plan.send) {
          const reminderId = reminderIds.get(stageKey(c.id, stage));
          if (reminderId === undefined) continue;
          outboxRows.push({
            case_id: c.id,
            key: `sla:${reminderId}`,
            kind: 'sla',
            ref_id: reminderId,
            created_at: now,
          });
          eventRows.push({
            case_id: c.id,
            type:
              stage.level === 'breach'
                ? 'sla_breached'
                : stage.clock === 'unclaimed'
                  ? 'sla_nudged'
                  : 'sla_warned',
            actor: 'carebot',
            data: {
              clock: stage.clock,
              stage: stage.stage,
              dueAt: stage.at.toISOString(),
              ...(stage.late ? { late: true } : {}),
            },
            at: now,
          });
          if (stage.level === 'breach') {
            state = 'breached';
            breaches.push({ caseId: c.id, stage });
            // The owner did not answer in time (they were reminded at 80 %): the team gets it back.
            if (stage.clock === 'first_response' && c.ownerId && this.opts.releaseOnBreach) released.push(c);
          } else if (stage.level === 'mention' && stage.clock !== 'unclaimed' && state === 'ok') {
            state = 'at_risk';
          }
        }
        updates.push({
          id: c.id,
          next_check: plan.nextCheckAt ?? null,
          state,
          bump: state === c.slaState ? 0 : 1,
        });
      }
      if (outboxRows.length) {
        await tx.execute(
          sql`insert into ${slackOutbox} (case_id, key, kind, ref_id, created_at)
              select case_id, key, kind, ref_id, created_at
              from ${jsonRecords(outboxRows)} as r(case_id integer, key text, kind text, ref_id bigint,
                created_at timestamptz)
              on conflict (key) do nothing`,
        );
      }
      if (eventRows.length) {
        await tx.execute(
          sql`insert into ${caseEvents} (case_id, type, actor, data, at)
              select case_id, type, actor, data, at
              from ${jsonRecords(eventRows)} as r(case_id integer, type text, actor text, data jsonb,
                at timestamptz)`,
        );
      }
      for (const c of new Set(released)) {
        await tx
          .update(cases)
          .set({ ownerId: null, cardVersion: sql`${cases.cardVersion} + 1` })
          .where(eq(cases.id, c.id));
        await announce(tx, {
          caseId: c.id,
          type: 'released',
          actor: 'carebot',
          at: now,
          data: { from: c.ownerId, clock: 'first_response' },
          slackText: `:arrows_counterclockwise: ${mentionUser(c.ownerId as string)} has not answered in time, so case #${c.id} is unclaimed again. ${this.careTeam()} whoever can answer first, claim it.`,
        });
      }
      await tx.execute(
        sql`update ${cases} set sla_next_check_at = v.next_check, sla_state = v.state,
              card_version = ${cases.cardVersion} + v.bump, sla_lease_token = null
            from ${jsonRecords(updates)} as v(id integer, next_check timestamptz, state text, bump integer)
            where ${cases.id} = v.id and ${cases.slaLeaseToken} = ${token}`,
      );
      return outboxRows.length > 0;
    });
    // Counted once committed: a batch that failed is swept again case by case.
    for (const { stage } of breaches)
      if (stage.clock !== 'unclaimed') this.opts.metrics?.slaBreached(stage.clock);
    for (const { caseId, stage } of breaches) await this.applyBreachRule(caseId, stage);
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
