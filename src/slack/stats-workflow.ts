import type { Duration } from '../care/clock.js';
import { decided, type WorkflowCounts, type WorkflowFigures } from '../care/stats-workflow.js';

/**
 * The Workflow section of `/care-stats` (care/stats-workflow.ts). A line appears only when its
 * feature did something in the period or the one before, so a team that does not use a feature
 * never reads a row of zeros; without any line there is no section (undefined).
 */

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const percent = (hits: number, of: number) => (of ? ` (${Math.round((100 * hits) / of)}%)` : '');

/** "(was 12)": the previous period's count, when it differs. */
const wasCount = (current: number, previous: number) => (current === previous ? '' : ` (was ${previous})`);

export function workflowText(w: WorkflowFigures, span: (d: Duration | null) => string): string | undefined {
  const c = w.current;
  const p = w.previous;
  const used = (figure: (x: WorkflowCounts) => number) => figure(c) > 0 || figure(p) > 0;
  const lines: string[] = [];
  if (used((x) => x.autoAssigned))
    lines.push(
      `Auto-assigned ${plural(c.autoAssigned, 'case')}${wasCount(c.autoAssigned, p.autoAssigned)} · ${c.handedBack} handed back${percent(c.handedBack, c.autoAssigned)}${wasCount(c.handedBack, p.handedBack)}`,
    );
  if (used((x) => x.autoResolved))
    lines.push(
      `Resolved automatically ${c.autoResolved} of ${plural(c.resolved, 'resolution')}${percent(c.autoResolved, c.resolved)}${p.resolved ? ` (was ${p.autoResolved} of ${p.resolved})` : ''}`,
    );
  if (used((x) => x.waitingStarted))
    lines.push(
      `Marked waiting on the customer ${plural(c.waitingStarted, 'time')}${wasCount(c.waitingStarted, p.waitingStarted)}`,
    );
  if (used(decided) || w.draftsWaiting > 0) {
    const median = c.decisionMedian === null ? '' : ` · decided in ${span(c.decisionMedian)} (median)`;
    const before = p.decisionMedian === null ? '' : `, was ${span(p.decisionMedian)}`;
    lines.push(
      `Trainee drafts decided ${decided(c)}${wasCount(decided(c), decided(p))}: ${c.approved} approved, ${c.editedApproved} approved with edits, ${c.rejected} rejected${median}${median ? before : ''} · ${w.draftsWaiting} waiting now`,
    );
  }
  return lines.length ? ['*Workflow*', ...lines].join('\n') : undefined;
}
