import type { CareConfig } from '../config/care.js';
import type { CaseRow } from '../db/schema.js';
import {
  addBusinessTime,
  businessTimeBetween,
  type Calendar,
  calendarFrom,
  isOpen,
  nextOpening,
} from './business-hours.js';
import type { Priority } from './priority.js';

/**
 * SLA clocks, as pure functions of a case's stored fields and an instant. Three clocks (first
 * response, next response, resolution) plus the unclaimed nudge; each has stages that remind
 * people before its deadline, counted in business time.
 */
export interface SlaSettings {
  calendar: Calendar;
  firstResponseMs: number;
  nextResponseMs: number;
  resolutionMs: number;
  unclaimedAfterMs: number | null;
  /** Percentages of a response target: a quiet note at the first, a mention at the second. */
  responseWarnings: [number, number];
  /** Business time before the resolution deadline at which the owner is mentioned. */
  resolutionWarningsMs: number[];
  remindOutsideHours: boolean;
  /** How late a stage may be sent before it is marked late (after downtime). */
  lateAfterMs: number;
  /** Targets that differ by priority. */
  priorities: Partial<
    Record<Priority, { firstResponseMs?: number; nextResponseMs?: number; resolutionMs?: number }>
  >;
  /** Targets while crisis mode is on (set by the crisis watch); each applies where it is tighter. */
  crisis?: Partial<Targets> | undefined;
}

export interface Targets {
  firstResponseMs: number;
  nextResponseMs: number;
  resolutionMs: number;
}

/** The targets of a case of this priority: its own where configured, else the defaults. */
export function targetsFor(s: SlaSettings, priority: Priority): Targets {
  const p = s.priorities[priority] ?? {};
  const c = s.crisis ?? {};
  const tighter = (usual: number, crisis: number | undefined) =>
    crisis === undefined ? usual : Math.min(usual, crisis);
  return {
    firstResponseMs: tighter(p.firstResponseMs ?? s.firstResponseMs, c.firstResponseMs),
    nextResponseMs: tighter(p.nextResponseMs ?? s.nextResponseMs, c.nextResponseMs),
    resolutionMs: tighter(p.resolutionMs ?? s.resolutionMs, c.resolutionMs),
  };
}

export function slaSettings(config: Pick<CareConfig, 'sla' | 'timezone' | 'businessHours'>): SlaSettings {
  return {
    calendar: calendarFrom(config),
    firstResponseMs: config.sla.firstResponse,
    nextResponseMs: config.sla.nextResponse,
    resolutionMs: config.sla.resolution,
    unclaimedAfterMs: config.sla.unclaimedAfter,
    responseWarnings: config.sla.responseWarnings,
    resolutionWarningsMs: [...config.sla.resolutionWarnings].sort((a, b) => b - a),
    remindOutsideHours: config.sla.remindOutsideHours,
    lateAfterMs: Math.max(3 * config.sla.checkEvery, 5 * 60_000),
    priorities: Object.fromEntries(
      Object.entries(config.sla.priorities).map(([p, t]) => [
        p,
        { firstResponseMs: t?.firstResponse, nextResponseMs: t?.nextResponse, resolutionMs: t?.resolution },
      ]),
    ),
  };
}

export type ClockName = 'unclaimed' | 'first_response' | 'next_response' | 'resolution';

/** How loud a stage is: a quiet thread note, a mention of the owner, or the breach. */
export type StageLevel = 'quiet' | 'mention' | 'breach';

export interface Stage {
  clock: ClockName;
  /** Identifies one run of the clock: a new follow-up or a changed deadline is a new cycle. */
  cycle: string;
  stage: string;
  level: StageLevel;
  at: Date;
}

export const stageKey = (caseId: number, s: Pick<Stage, 'clock' | 'cycle' | 'stage'>) =>
  `${caseId}:${s.clock}:${s.cycle}:${s.stage}`;

type SlaFields = Pick<
  CaseRow,
  | 'status'
  | 'ownerId'
  | 'openedAt'
  | 'firstResponseDueAt'
  | 'firstResponseAt'
  | 'nextResponseStartedAt'
  | 'nextResponseDueAt'
  | 'resolutionDueAt'
  | 'priority'
  | 'waitingSince'
>;

/** Every stage of every clock that is running on the case, in time order. */
export function stagesOf(c: SlaFields, s: SlaSettings): Stage[] {
  // A case waiting on its customer has its clocks paused (care/waiting.ts): nothing is due.
  if (c.status !== 'open' || c.waitingSince) return [];
  const stages: Stage[] = [];
  const cal = s.calendar;
  const t = targetsFor(s, c.priority);
  if (!c.ownerId && s.unclaimedAfterMs !== null) {
    stages.push({
      clock: 'unclaimed',
      cycle: c.openedAt.toISOString(),
      stage: 'nudge',
      level: 'mention',
      at: addBusinessTime(cal, c.openedAt, s.unclaimedAfterMs),
    });
  }
  const response = (clock: ClockName, start: Date, due: Date, target: number) => {
    const cycle = start.toISOString();
    const [quiet, mention] = s.responseWarnings;
    stages.push(
      {
        clock,
        cycle,
        stage: `${quiet}pct`,
        level: 'quiet',
        at: addBusinessTime(cal, start, (target * quiet) / 100),
      },
      {
        clock,
        cycle,
        stage: `${mention}pct`,
        level: 'mention',
        at: addBusinessTime(cal, start, (target * mention) / 100),
      },
      { clock, cycle, stage: 'breach', level: 'breach', at: due },
    );
  };
  // Warnings are shares of the clock's own span (start to deadline), so a deadline set under other
  // targets (crisis mode on or off since, a priority change) still gets its warnings before it.
  const span = (start: Date, due: Date) => businessTimeBetween(cal, start, due);
  if (!c.firstResponseAt && c.firstResponseDueAt) {
    response('first_response', c.openedAt, c.firstResponseDueAt, span(c.openedAt, c.firstResponseDueAt));
  }
  if (c.nextResponseStartedAt && c.nextResponseDueAt) {
    response(
      'next_response',
      c.nextResponseStartedAt,
      c.nextResponseDueAt,
      span(c.nextResponseStartedAt, c.nextResponseDueAt),
    );
  }
  if (c.resolutionDueAt) {
    const due = c.resolutionDueAt;
    const cycle = due.toISOString();
    const resolutionMs = c.resolutionDueAt > c.openedAt ? span(c.openedAt, due) : t.resolutionMs;
    for (const before of s.resolutionWarningsMs) {
      if (before >= resolutionMs) continue;
      stages.push({
        clock: 'resolution',
        cycle,
        stage: `before_${before / 60_000}m`,
        level: 'mention',
        at: subtractBusinessTime(cal, c.openedAt, due, before),
      });
    }
    stages.push({ clock: 'resolution', cycle, stage: 'breach', level: 'breach', at: due });
  }
  return stages.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The instant `beforeMs` of business time before `due` (not earlier than `floor`). */
function subtractBusinessTime(cal: Calendar, floor: Date, due: Date, beforeMs: number): Date {
  const total = businessTimeBetween(cal, floor, due);
  return addBusinessTime(cal, floor, Math.max(0, total - beforeMs));
}

export interface SweepPlan {
  /** Per clock, the latest due stage to send; earlier unsent ones are skipped. */
  send: Array<Stage & { late: boolean }>;
  skip: Stage[];
  /** When the sweep must look again (undefined: no clock is running). */
  nextCheckAt: Date | undefined;
}

/**
 * Decides what a sweep does for one case at `now`, given which stage keys were already handled.
 * After downtime only the latest due stage of each clock goes out (marked late); outside business
 * hours reminders wait for the opening unless configured otherwise.
 */
export function planSweep(
  caseId: number,
  c: SlaFields,
  s: SlaSettings,
  handled: Set<string>,
  now: Date,
): SweepPlan {
  const stages = stagesOf(c, s).filter((st) => !handled.has(stageKey(caseId, st)));
  const due = stages.filter((st) => st.at.getTime() <= now.getTime());
  const upcoming = stages.filter((st) => st.at.getTime() > now.getTime());
  const quietHours = !s.remindOutsideHours && !isOpen(s.calendar, now);
  const send: SweepPlan['send'] = [];
  const skip: Stage[] = [];
  let deferredTo: Date | undefined;
  const byClock = new Map<string, Stage[]>();
  for (const st of due)
    byClock.set(`${st.clock}:${st.cycle}`, [...(byClock.get(`${st.clock}:${st.cycle}`) ?? []), st]);
  for (const list of byClock.values()) {
    const latest = list[list.length - 1] as Stage;
    const justNow = now.getTime() - latest.at.getTime() <= s.lateAfterMs;
    // A stage that falls exactly at closing time still goes out at once; others wait for the opening.
    if (quietHours && !justNow) {
      const opening = nextOpening(s.calendar, now);
      deferredTo = !deferredTo || opening < deferredTo ? opening : deferredTo;
      continue;
    }
    // Late means business time went by unnoticed (carebot was down), not that it waited for opening.
    send.push({ ...latest, late: businessTimeBetween(s.calendar, latest.at, now) > s.lateAfterMs });
    skip.push(...list.slice(0, -1));
  }
  const candidates = [...upcoming.map((st) => st.at), ...(deferredTo ? [deferredTo] : [])];
  const nextCheckAt = candidates.length
    ? new Date(Math.min(...candidates.map((d) => d.getTime())))
    : undefined;
  return { send, skip, nextCheckAt };
}

/** Deadlines of a newly opened case. */
export function openingDeadlines(openedAt: Date, s: SlaSettings, priority: Priority = 'P3') {
  const t = targetsFor(s, priority);
  return {
    firstResponseDueAt: addBusinessTime(s.calendar, openedAt, t.firstResponseMs),
    resolutionDueAt: addBusinessTime(s.calendar, openedAt, t.resolutionMs),
    slaNextCheckAt: openedAt,
  };
}

/** The next-response deadline when a customer writes again after a reply. */
export function nextResponseDue(at: Date, s: SlaSettings, priority: Priority = 'P3'): Date {
  return addBusinessTime(s.calendar, at, targetsFor(s, priority).nextResponseMs);
}

/**
 * Deadlines after a priority change: every running clock is measured again from its start with
 * the new targets (a clock that already stopped stays stopped).
 */
export function deadlinesForPriority(
  c: Pick<
    CaseRow,
    | 'openedAt'
    | 'firstResponseAt'
    | 'firstResponseDueAt'
    | 'nextResponseStartedAt'
    | 'nextResponseDueAt'
    | 'resolutionDueAt'
  >,
  s: SlaSettings,
  priority: Priority,
) {
  const t = targetsFor(s, priority);
  return {
    firstResponseDueAt:
      !c.firstResponseAt && c.firstResponseDueAt
        ? addBusinessTime(s.calendar, c.openedAt, t.firstResponseMs)
        : c.firstResponseDueAt,
    nextResponseDueAt:
      c.nextResponseStartedAt && c.nextResponseDueAt
        ? addBusinessTime(s.calendar, c.nextResponseStartedAt, t.nextResponseMs)
        : c.nextResponseDueAt,
    resolutionDueAt: c.resolutionDueAt
      ? addBusinessTime(s.calendar, c.openedAt, t.resolutionMs)
      : c.resolutionDueAt,
  };
}

/** Business time left on the resolution clock at `at` (0 once it passed). */
export function resolutionRemaining(due: Date | null, at: Date, s: SlaSettings): number {
  return due ? businessTimeBetween(s.calendar, at, due) : 0;
}

/** A resolved case reopened: the resolution clock continues with the time it had left. */
export function continuedResolutionDue(remainingMs: number | null, at: Date, s: SlaSettings): Date {
  return addBusinessTime(s.calendar, at, remainingMs ?? 0);
}

/**
 * The resolution deadline when a case stops waiting on its customer: the clock gets back the
 * business time it had left when the wait began, counted from `now`, which moves the deadline by
 * the business time spent waiting. A deadline that had already passed when the wait began stays
 * where it was (the breach is not repeated). The response clocks never run while a case waits:
 * waiting begins only after an answer reached the customer, and the customer's next message ends it.
 */
export function resolutionDueAfterWaiting(
  c: Pick<CaseRow, 'resolutionDueAt' | 'waitingSince'>,
  now: Date,
  s: SlaSettings,
): Date | null {
  if (!c.resolutionDueAt || !c.waitingSince || c.resolutionDueAt <= c.waitingSince) return c.resolutionDueAt;
  return addBusinessTime(s.calendar, now, businessTimeBetween(s.calendar, c.waitingSince, c.resolutionDueAt));
}
