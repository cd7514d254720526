import type { types } from '@slack/bolt';
import { claimCase } from '../../care/case-ownership.js';
import { capabilities } from '../../care/platforms.js';
import type { CaseRow } from '../../care/records.js';
import { cancelBySlackMessage, caseOfThread, editReply, noteText, recordNote } from '../../care/replies.js';
import { checkTone, replyTarget } from '../../care/tone.js';
import { platformLabel } from '../../slack/case-card.js';
import { slackToPlain } from '../../slack/plain-text.js';
import { heldNotice, noteNotice, undoNotice } from '../../slack/replies.js';
import type { EventArgs, ListenerContext } from '../context.js';
import { queueAndNotify } from '../reply-flow.js';

/** The fields of message events carebot reads; Slack sends many more. */
interface ThreadMessage {
  subtype?: string | undefined;
  user?: string | undefined;
  bot_id?: string | undefined;
  text?: string | undefined;
  ts: string;
  thread_ts?: string | undefined;
  /** The poster's own workspace (Slack Connect: another organisation's). */
  user_team?: string | undefined;
}

type Notify = (content: { text: string; blocks?: types.KnownBlock[] }) => Promise<unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The fields carebot reads of a message (or of the message inside a `message_changed`), read as
 * what they are: Bolt types each subtype differently, and `user_team` not at all.
 */
function readMessage(m: types.MessageEvent | undefined): ThreadMessage {
  const fields: Record<string, unknown> = { ...m };
  return {
    subtype: str(fields.subtype),
    user: str(fields.user),
    bot_id: str(fields.bot_id),
    text: str(fields.text),
    ts: str(fields.ts) ?? '',
    thread_ts: str(fields.thread_ts),
    user_team: str(fields.user_team),
  };
}

/**
 * Messages in case threads. Who may answer the customer is decided here: the owner's replies go
 * out (after the tone check and the undo window); on an unclaimed case a care-team member's reply
 * claims it; `note:` replies and everyone else's stay internal notes. Edits inside the undo window
 * change what is sent; deleting the message cancels it. Bots, carebot itself and other subtypes
 * are ignored.
 */
export async function threadMessage({ event, client, context }: EventArgs<'message'>): Promise<void> {
  const ctx = context.carebot;
  const botUserId = context.botUserId;
  const channel = event.channel;
  const notifier =
    (m: ThreadMessage & { user: string }): Notify =>
    (content) =>
      client.chat.postEphemeral({ channel, user: m.user, thread_ts: m.thread_ts, ...content });
  switch (event.subtype) {
    case undefined:
    case 'file_share':
    case 'thread_broadcast': {
      const m = readMessage(event);
      if (fromPerson(m, botUserId)) await onMessage(ctx, channel, m, notifier(m));
      return;
    }
    case 'message_changed': {
      // Slack always sends the edited message; a payload without one reads as no person's.
      const m = readMessage(event.message);
      if (fromPerson(m, botUserId)) await onEdit(ctx, channel, m, notifier(m));
      return;
    }
    case 'message_deleted': {
      const ts = str(event.deleted_ts) ?? readMessage(event.previous_message).ts;
      if (ts) await onDelete(ctx, channel, ts);
      return;
    }
    default:
      return;
  }
}

const fromPerson = (m: ThreadMessage, botUserId: string | undefined): m is ThreadMessage & { user: string } =>
  Boolean(m.user) && !m.bot_id && m.user !== botUserId && m.subtype !== 'bot_message';

async function threadCase(
  ctx: ListenerContext,
  channel: string,
  m: ThreadMessage,
): Promise<CaseRow | undefined> {
  if (!m.thread_ts || m.thread_ts === m.ts) return undefined;
  return caseOfThread(ctx.db, channel, m.thread_ts);
}

async function onMessage(
  ctx: ListenerContext,
  channel: string,
  m: ThreadMessage & { user: string },
  notify: Notify,
): Promise<void> {
  const found = await threadCase(ctx, channel, m);
  if (!found) return;
  let caseRow = found;
  const text = m.text ?? '';
  const origin = { channel, ts: m.ts };
  const saveNote = (noteBody: string) =>
    recordNote(ctx.db, ctx.clock, {
      caseId: caseRow.id,
      sourceKey: caseRow.sourceKey,
      authorId: m.user,
      text: noteBody,
      origin,
    });

  const note = noteText(text);
  if (note !== undefined) {
    await saveNote(note);
    return;
  }
  if (caseRow.status === 'resolved') {
    const saved = await saveNote(text);
    if (!saved.duplicate) {
      await notify({
        text: `Case #${caseRow.id} is resolved, so this was saved as a note. Reopen it to answer the customer.`,
      });
    }
    return;
  }
  // Whether this may reach the customer (care/permissions.ts); asked only when it would.
  const may =
    !caseRow.ownerId || caseRow.ownerId === m.user
      ? await ctx.permissions.check({ userId: m.user, teamId: m.user_team }, { action: 'reply' })
      : undefined;
  if (may?.allowed && !caseRow.ownerId) {
    const claimed = await claimCase(ctx.db, ctx.clock, caseRow.id, m.user);
    if (claimed.kind === 'claimed' || claimed.kind === 'already_owner') {
      caseRow = claimed.case;
      ctx.kickSync();
    }
  }
  if (caseRow.ownerId !== m.user || (may && !may.allowed)) {
    const saved = await saveNote(text);
    if (!saved.duplicate) {
      await notify({
        text:
          may && !may.allowed && (may.reason === 'lookup_failed' || caseRow.ownerId === m.user)
            ? `${may.message} This message was saved as a note; it was not sent to the customer.`
            : noteNotice(caseRow.ownerId),
      });
    }
    return;
  }
  if (!capabilities(caseRow.platform).reply) {
    const saved = await saveNote(text);
    if (!saved.duplicate) {
      await notify({
        text: `carebot cannot post on ${platformLabel(caseRow.platform, caseRow.sourceKey)}, so this was saved as a note. Open the post, answer there, then press "I replied on the site" on the card.`,
      });
    }
    return;
  }
  await queueAndNotify(ctx, {
    caseRow,
    authorId: m.user,
    text: slackToPlain(text),
    origin,
    notify,
    approval: may?.allowed ? may.approval : undefined,
  });
}

async function onEdit(
  ctx: ListenerContext,
  channel: string,
  m: ThreadMessage & { user: string },
  notify: Notify,
): Promise<void> {
  const caseRow = await threadCase(ctx, channel, m);
  if (!caseRow) return;
  const origin = { channel, ts: m.ts };
  const text = m.text ?? '';
  // Turning a queued reply into a note takes it back.
  if (noteText(text) !== undefined) {
    const cancelled = await cancelBySlackMessage(ctx.db, ctx.clock, origin);
    if (cancelled) await notify({ text: 'Your reply is now a note; it will not be sent.' });
    return;
  }
  const plain = slackToPlain(text);
  const findings = checkTone(plain, replyTarget(caseRow), ctx.tone);
  const result = await editReply(ctx.db, ctx.clock, {
    origin,
    text: plain,
    findings,
    delay: ctx.config.replyDelay,
  });
  if (result.kind === 'locked') {
    await notify({
      text: 'Your reply goes out as it was approved (or waits for approval as it was written); editing the Slack message does not change it. Delete the message to withdraw the reply, then write it again.',
    });
  } else if (result.kind === 'too_late' && result.reply.status === 'sent' && result.reply.text !== plain) {
    await notify({
      text: 'That reply was already sent; editing it in Slack does not change what the customer got.',
    });
  } else if (result.kind === 'edited' && result.changed) {
    if (result.reply.status === 'held') {
      await notify(heldNotice(result.reply, findings));
    } else {
      ctx.deliverAt(result.reply.sendAt);
      // Released from hold by the edit: a fresh undo window, with its own Cancel.
      if (result.wasHeld) {
        await notify(
          undoNotice(result.reply, platformLabel(caseRow.platform, caseRow.sourceKey), ctx.config.replyDelay),
        );
      }
    }
  }
}

async function onDelete(ctx: ListenerContext, channel: string, ts: string): Promise<void> {
  const cancelled = await cancelBySlackMessage(ctx.db, ctx.clock, { channel, ts });
  if (cancelled) {
    ctx.logger.info(
      { caseId: cancelled.caseId, replyId: cancelled.id },
      'reply cancelled by deleting its message',
    );
  }
}
