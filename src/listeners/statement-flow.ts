import type { types } from '@slack/bolt';
import { getIncident, postInThread, summarize } from '../care/incidents.js';
import { planStatement, type StatementPlan, sendStatement } from '../care/statements.js';
import { incidentMessageAt } from '../care/threads.js';
import { batchUndoNotice, statementNote } from '../slack/incident.js';
import type { ListenerContext } from './context.js';

/** The statement the modal starts with: the approved one while the incident runs, blank for a follow-up. */
export async function statementDraft(ctx: ListenerContext, incidentId: number) {
  const incident = await getIncident(ctx.db, incidentId);
  if (!incident) return undefined;
  const summary = await summarize(ctx.db, incident);
  const text = incident.status === 'resolved' ? '' : (summary.statement?.text ?? '');
  return { incident, summary, text };
}

/** Who would get `text`; a blank draft is counted without the tone check (it has nothing to check yet). */
export async function previewPlan(
  ctx: ListenerContext,
  incidentId: number,
  text: string,
  userId: string,
): Promise<StatementPlan> {
  const plan = await planStatement(ctx.db, {
    incidentId,
    text: text || 'draft',
    agentName: await ctx.people.name(userId),
    tone: ctx.tone,
  });
  if (text) return plan;
  return {
    send: [...plan.send, ...plan.held.map((h) => ({ ...h, text: '', channel: '' }))],
    held: [],
    skipped: plan.skipped,
  };
}

/** The incident message's ts, for answering in its thread. */
export async function incidentThreadTs(
  ctx: ListenerContext,
  incidentId: number,
): Promise<string | undefined> {
  return (await incidentMessageAt(ctx.db, incidentId))?.ts ?? undefined;
}

/**
 * Sends the lead's statement to every linked open case as one batch: the lead gets the undo notice
 * with Cancel all, the incident thread says who sent what to how many.
 */
export async function sendIncidentStatement(
  ctx: ListenerContext,
  input: {
    incidentId: number;
    userId: string;
    text: string;
    requestKey: string;
    postEphemeral: (content: {
      channel: string;
      thread_ts?: string;
      text: string;
      blocks: types.KnownBlock[];
    }) => Promise<unknown>;
  },
): Promise<void> {
  const draft = await statementDraft(ctx, input.incidentId);
  if (!draft) return;
  const plan = await planStatement(ctx.db, {
    incidentId: input.incidentId,
    text: input.text,
    agentName: await ctx.people.name(input.userId),
    tone: ctx.tone,
  });
  const approved = draft.summary.statement;
  const result = await sendStatement(ctx.db, ctx.clock, {
    incidentId: input.incidentId,
    userId: input.userId,
    text: input.text,
    savedReplyId: approved && approved.text === input.text ? approved.id : undefined,
    requestKey: input.requestKey,
    delay: ctx.config.replyDelay,
    perMinute: ctx.config.crisis.statementPerMinute,
    plan,
  });
  if (result.kind === 'duplicate') return;
  ctx.logger.info(
    {
      incidentId: input.incidentId,
      batchId: result.batch.id,
      queued: result.replies.length,
      held: plan.held.length,
      skipped: plan.skipped.length,
    },
    'incident statement queued',
  );
  await postInThread(
    ctx.db,
    draft.incident,
    `statement:${result.batch.id}`,
    statementNote(input.userId, input.text, plan),
    ctx.clock.now(),
  );
  ctx.kickSync();
  if (result.replies[0]) ctx.deliverAt(result.batch.sendAt);
  const threadTs = await incidentThreadTs(ctx, input.incidentId);
  await input.postEphemeral({
    channel: draft.incident.channelId,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...batchUndoNotice(result.batch.id, plan, ctx.config.replyDelay),
  });
}
