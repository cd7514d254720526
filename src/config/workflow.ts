import { z } from 'zod';
import { duration, usergroupId } from './fields.js';

/**
 * The care-workflow sections of carebot.config.yaml (names fixed in DESIGN.md, "Workflow"):
 * `assignment`, `csat`, `auto_resolve` and `approval`. Every one is off unless set.
 */

const emoji = z.string().regex(/^:[a-z0-9_+'-]+:$/, 'expected a Slack emoji code such as :palm_tree:');

export const workflowFileShape = {
  assignment: z
    .strictObject({
      mode: z
        .enum(['off', 'round_robin'], { error: 'expected off or round_robin' })
        .default('off')
        .describe('`off`: cases wait for someone to claim them; `round_robin`: carebot hands them out'),
      after: duration
        .prefault('5m')
        .describe('an unclaimed case is assigned this long after it opened (P1 cases at once)'),
      max_open_per_agent: z
        .number()
        .int()
        .positive()
        .default(8)
        .describe('nobody is assigned a case while they own this many open cases'),
      shift_usergroup: usergroupId
        .nullable()
        .default(null)
        .describe(
          'Slack user group id (`S…`) of whoever is on shift; set: only its members are assigned cases',
        ),
      away_status_emoji: z
        .array(emoji)
        .default([':palm_tree:', ':face_with_thermometer:', ':no_entry:'])
        .describe('a Slack status with one of these emoji means away: such people are not assigned cases'),
    })
    .prefault({})
    .describe(
      'Handing unclaimed cases to the next available member of the care team (see [Auto-assignment](features/assignment.md)).',
    ),
  csat: z
    .strictObject({
      enabled: z
        .boolean()
        .default(false)
        .describe('after a private conversation is resolved, ask the customer how it went'),
      text: z
        .string()
        .trim()
        .min(1, 'expected the question customers are sent')
        .max(280, 'expected one short question (280 characters at most)')
        .default('How did we do? Reply 1 (bad) to 5 (great).')
        .describe('the question, in the team’s own words; answers 1 to 5 are understood'),
    })
    .prefault({})
    .describe(
      'The satisfaction question, the one message carebot sends by itself (see [CSAT](features/csat.md)).',
    ),
  auto_resolve: z
    .strictObject({
      after: duration
        .nullable()
        .default(null)
        .describe('a case waiting on the customer this long (e.g. `3d`) is resolved; `null`: never'),
      nudge_after: duration
        .nullable()
        .default(null)
        .describe('remind the owner in the thread after this long waiting (e.g. `2d`); `null`: no reminder'),
    })
    .prefault({})
    .describe('Cases marked "waiting on customer" (see [Waiting on the customer](features/waiting.md)).'),
  approval: z
    .strictObject({
      trainees_usergroup: usergroupId
        .nullable()
        .default(null)
        .describe('Slack user group id of people in training: their replies wait for approval'),
      approvers_usergroup: usergroupId
        .nullable()
        .default(null)
        .describe('Slack user group id of those who approve, edit or reject those replies'),
    })
    .prefault({})
    .describe('Replies that need approval (see [Reply approval](features/approval.md)).'),
};

const workflowFile = z.strictObject(workflowFileShape);
type WorkflowFile = z.output<typeof workflowFile>;

export function resolveWorkflow(f: WorkflowFile) {
  return {
    assignment: {
      mode: f.assignment.mode,
      after: f.assignment.after,
      maxOpenPerAgent: f.assignment.max_open_per_agent,
      shiftUsergroup: f.assignment.shift_usergroup,
      awayStatusEmoji: f.assignment.away_status_emoji,
    },
    csat: { enabled: f.csat.enabled, text: f.csat.text },
    autoResolve: { after: f.auto_resolve.after, nudgeAfter: f.auto_resolve.nudge_after },
    approval: {
      traineesUsergroup: f.approval.trainees_usergroup,
      approversUsergroup: f.approval.approvers_usergroup,
    },
  };
}

/** Problems only seen across the workflow keys. */
export function crossCheckWorkflow(f: WorkflowFile, path: string): string[] {
  const problems: string[] = [];
  const { after, nudge_after } = f.auto_resolve;
  if (nudge_after !== null && after === null) {
    problems.push(
      `${path}: auto_resolve.nudge_after: set auto_resolve.after too (the nudge comes before it)`,
    );
  }
  if (nudge_after !== null && after !== null && nudge_after >= after) {
    problems.push(`${path}: auto_resolve.nudge_after: must be shorter than auto_resolve.after`);
  }
  const { trainees_usergroup, approvers_usergroup } = f.approval;
  if (trainees_usergroup && !approvers_usergroup) {
    problems.push(
      `${path}: approval.approvers_usergroup: missing: trainees' replies need someone to approve them`,
    );
  }
  if (trainees_usergroup && trainees_usergroup === approvers_usergroup) {
    problems.push(`${path}: approval.approvers_usergroup: must not be the trainees' group`);
  }
  return problems;
}
