import { setPriority } from '../../care/case-lifecycle.js';
import type { Priority } from '../../care/priority.js';
import { caseIdFrom, type StaticSelectArgs } from '../context.js';
import { clickAllowed } from '../origin.js';

const PRIORITIES: readonly string[] = ['P1', 'P2', 'P3'] satisfies Priority[];
const isPriority = (value: string | undefined): value is Priority =>
  value !== undefined && PRIORITIES.includes(value);

/** The priority select on a case card (its block id carries the case id). */
export async function setCasePriority({
  ack,
  body,
  action,
  client,
  context,
}: StaticSelectArgs): Promise<void> {
  await ack();
  const ctx = context.carebot;
  const caseId = caseIdFrom(body.actions[0]?.block_id?.split(':')[1]);
  const priority = action.selected_option?.value;
  if (!caseId || !isPriority(priority)) return;
  if (!(await clickAllowed(ctx, { body, client }, { caseId }, { action: 'priority' }))) return;
  const result = await setPriority(ctx.db, ctx.clock, {
    caseId,
    priority,
    userId: body.user.id,
    sla: ctx.sla,
  });
  if (result.kind === 'changed') {
    ctx.logger.info({ caseId, priority, userId: body.user.id }, 'priority changed');
    ctx.kickSync();
  }
}
