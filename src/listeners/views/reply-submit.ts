import { claimCase } from '../../care/case-ownership.js';
import { loadCaseView } from '../../care/case-view.js';
import { noteText } from '../../care/replies.js';
import { customerValues, fillTemplate } from '../../care/saved-replies.js';
import { caseThread } from '../../care/threads.js';
import { parseReplyState, REPLY_BLOCKS, replyTextFrom } from '../../slack/saved-replies.js';
import { actorOf, type ViewSubmitArgs } from '../context.js';
import { queueAndNotify } from '../reply-flow.js';

/**
 * Sending from the Reply modal: the same rules as a thread reply (only the owner, or a care-team
 * member who thereby claims an unclaimed case), then the same tone check and undo window.
 */
export async function replySubmit({ ack, body, view, client, context }: ViewSubmitArgs): Promise<void> {
  const ctx = context.carebot;
  const state = parseReplyState(view.private_metadata);
  const values = view.state.values;
  const textBlock =
    Object.keys(values).find((id) => id.startsWith(REPLY_BLOCKS.textPrefix)) ?? REPLY_BLOCKS.textPrefix;
  const fail = (message: string) => ack({ response_action: 'errors', errors: { [textBlock]: message } });
  const caseView = state ? await loadCaseView(ctx.db, state.caseId) : undefined;
  if (!state || !caseView) return fail('This case no longer exists.');
  const userId = body.user.id;
  let caseRow = caseView.case;
  if (caseRow.status === 'resolved') return fail('This case is resolved. Reopen it to answer the customer.');
  const thread = await caseThread(ctx.db, caseRow.id);
  if (!thread) return fail('This case is not in Slack yet; try again in a moment.');
  // Everything from this modal reaches the customer: the care team's, the owner's included.
  const may = await ctx.permissions.check(actorOf(body), { action: 'reply' });
  if (!may.allowed) return fail(may.message);
  if (!caseRow.ownerId) {
    const claimed = await claimCase(ctx.db, ctx.clock, caseRow.id, userId);
    if (claimed.kind === 'claimed' || claimed.kind === 'already_owner') {
      caseRow = claimed.case;
      ctx.kickSync();
    }
  }
  if (caseRow.ownerId !== userId) {
    return fail(
      caseRow.ownerId
        ? 'Only the case owner can answer the customer.'
        : 'Only the care team can answer the customer.',
    );
  }
  const written = replyTextFrom(values).trim();
  if (!written) return fail('Write the reply first.');
  if (noteText(written) !== undefined) {
    return fail('This modal answers the customer. Write notes in the thread, starting with note:');
  }
  await ack();
  // Filled after the ack: the name lookup may call Slack, and the ack must come within 3 s.
  const text = fillTemplate(written, {
    ...customerValues(caseView.firstMessage),
    agent_name: await ctx.people.name(userId),
    case_id: String(caseRow.id),
  });
  await queueAndNotify(ctx, {
    caseRow,
    authorId: userId,
    text,
    // One reply per modal submission, whatever Slack redelivers.
    origin: { channel: thread.channelId, ts: `modal:${view.id}` },
    ...(state.savedReplyId ? { savedReplyId: state.savedReplyId } : {}),
    approval: may.approval,
    notify: (content) =>
      client.chat.postEphemeral({
        channel: thread.channelId,
        user: userId,
        thread_ts: thread.threadTs,
        ...content,
      }),
  });
}
