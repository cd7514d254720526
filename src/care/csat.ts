import { and, eq, inArray, sql } from 'drizzle-orm';
import { type CaseRow, caseEvents, csatRatings, messages, replies } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { announce } from './case-store.js';
import { type Duration, hours } from './clock.js';
import { type InboundMessage, inboundRow } from './inbound.js';
import { mayAskForRating } from './permissions.js';
import { capabilities, platformInfo } from './platforms.js';
import { latestCustomerMessageId, positionOf } from './replies.js';

/**
 * Asking the customer how we did (docs/features/csat.md): after a private case is resolved,
 * carebot queues the team's question (`csat.text`) as a reply of kind `csat`, so it leaves through
 * the one delivery path (leases, idempotency keys, a crash mid-send looked for before a resend). A
 * case is asked once, ever: the question's Slack key and the `csat_ratings` key are the case's.
 * The customer's next message in that conversation within {@link CSAT_ANSWER_WINDOW} that is a
 * rating is recorded on the case and does not reopen it; anything else is a message as usual.
 */

/** How long after the question a bare rating counts as its answer. */
export const CSAT_ANSWER_WINDOW: Duration = hours(7 * 24);

/** Who the question is from in the replies table and the event log. */
export const CSAT_AUTHOR = 'carebot';

export interface CsatSettings {
  enabled: boolean;
  text: string;
  /** The undo window: reopening the case before it ends keeps the question from leaving. */
  delay: Duration;
}

/** The answers a platform with quick replies offers; the payload is what its webhook returns. */
export const RATING_OPTIONS: ReadonlyArray<{ label: string; payload: string }> = [
  { label: '1 (bad)', payload: 'csat:1' },
  { label: '2', payload: 'csat:2' },
  { label: '3', payload: 'csat:3' },
  { label: '4', payload: 'csat:4' },
  { label: '5 (great)', payload: 'csat:5' },
];

/**
 * A rating in a customer's message, or undefined: a quick-reply payload `csat:1`…`csat:5`, or a
 * whole message that is only a number from 1 to 5 (`4`, `4/5`, `4 of 5`, `4.`), or one to five
 * stars (`⭐⭐⭐⭐`, `★★★★`). Anything more ("4, but the courier was rude") is a message, not a rating.
 */
export function parseRating(text: string, quickReply?: string): number | undefined {
  const payload = quickReply ? /^csat:([1-5])$/.exec(quickReply) : null;
  if (payload?.[1]) return Number(payload[1]);
  // A reply on Mastodon (or X) starts with the mentions it answers: `@acme 4`.
  const t = text.trim().replace(/^(?:@[\w.@-]+\s+)+/u, '');
  const number = /^([1-5])(?:\s*(?:\/|of|out of)\s*5)?\s*[.!]?$/i.exec(t);
  if (number?.[1]) return Number(number[1]);
  const stars = /^(?:(?:⭐|★)\uFE0F?\s*){1,5}$/u.exec(t);
  if (stars) return [...t].filter((c) => c === '⭐' || c === '★').length;
  return undefined;
}

/** `★★★★☆ 4 of 5` */
export const ratingStars = (score: number) => `${'★'.repeat(score)}${'☆'.repeat(5 - score)} ${score} of 5`;

/**
 * Queues the question for a case this transaction just resolved, when the policy allows it.
 * Returns the reply's send time, or undefined when nothing was queued.
 */
export async function queueRatingQuestion(
  tx: Tx,
  resolved: CaseRow,
  settings: CsatSettings,
  now: Date,
): Promise<Date | undefined> {
  const platform = platformInfo(resolved.platform);
  const [asked] = await tx
    .select({ caseId: csatRatings.caseId })
    .from(csatRatings)
    .where(eq(csatRatings.caseId, resolved.id));
  const [forgotten] = await tx
    .select({ id: caseEvents.id })
    .from(caseEvents)
    .where(
      and(
        eq(caseEvents.caseId, resolved.id),
        inArray(caseEvents.type, ['customer_forgotten', 'customer_text_expired']),
      ),
    )
    .limit(1);
  const decision = mayAskForRating({
    enabled: settings.enabled,
    direct: platform.isDirect?.(resolved.conversationId) ?? false,
    canMessage: capabilities(resolved.platform).directMessage,
    forgotten: Boolean(forgotten) || resolved.conversationId.startsWith('removed:'),
    alreadyAsked: Boolean(asked),
  });
  if (!decision.allowed) return undefined;
  const sendAt = new Date(now.getTime() + settings.delay);
  const [reply] = await tx
    .insert(replies)
    .values({
      caseId: resolved.id,
      kind: 'csat',
      status: 'pending',
      authorId: CSAT_AUTHOR,
      text: settings.text,
      // The case's own key: a second resolve, or a second instance, inserts nothing.
      slackChannel: 'csat',
      slackTs: `case:${resolved.id}`,
      position: positionOf('', now),
      inReplyTo: await latestCustomerMessageId(tx, resolved.id),
      sendAt,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: replies.id });
  if (!reply) return undefined;
  await tx
    .insert(csatRatings)
    .values({ caseId: resolved.id, replyId: reply.id, agentId: resolved.ownerId, askedAt: now });
  const seconds = Math.max(1, Math.round(settings.delay / 1000));
  await announce(tx, {
    caseId: resolved.id,
    type: 'csat_queued',
    actor: CSAT_AUTHOR,
    at: now,
    data: { replyId: reply.id },
    slackText: `:speech_balloon: In ${seconds} s carebot asks the customer how we did, in the team's words from \`csat.text\`. Reopen the case before then and it does not.`,
  });
  return sendAt;
}

/**
 * The case was reopened: a question still waiting out its undo window is withdrawn (it never
 * left), so the case may be asked when it is resolved again. One already on its way stays.
 */
export async function withdrawRatingQuestion(
  tx: Tx,
  caseId: number,
  actor: string,
  now: Date,
): Promise<void> {
  const [withdrawn] = await tx
    .delete(replies)
    .where(and(eq(replies.caseId, caseId), eq(replies.kind, 'csat'), eq(replies.status, 'pending')))
    .returning({ id: replies.id });
  if (!withdrawn) return;
  await tx.delete(csatRatings).where(eq(csatRatings.caseId, caseId));
  await announce(tx, {
    caseId,
    type: 'csat_withdrawn',
    actor,
    at: now,
    data: { replyId: withdrawn.id },
    slackText: 'The case was reopened, so carebot does not ask the customer how we did (yet).',
  });
}

/**
 * A customer's message in a resolved case's conversation: when it answers the case's question
 * (sent, unanswered, within the window) with a rating, it is stored on that case with the score
 * and the thread is told; the case stays resolved. Returns the stored message's id, or undefined
 * when the message is not an answer (the caller then handles it as usual).
 */
export async function recordRatingAnswer(
  tx: Tx,
  caseId: number,
  msg: InboundMessage,
  now: Date,
): Promise<number | undefined> {
  const score = parseRating(msg.text, msg.quickReply);
  if (score === undefined) return undefined;
  const [question] = await tx
    .select({ sentAt: replies.sentAt })
    .from(csatRatings)
    .innerJoin(replies, eq(replies.id, csatRatings.replyId))
    .where(and(eq(csatRatings.caseId, caseId), sql`${csatRatings.score} is null`, eq(replies.status, 'sent')))
    .for('update');
  if (!question?.sentAt) return undefined;
  const age = now.getTime() - question.sentAt.getTime();
  if (age < 0 || age > CSAT_ANSWER_WINDOW) return undefined;
  const [inserted] = await tx
    .insert(messages)
    .values(inboundRow(caseId, msg, now))
    .onConflictDoNothing()
    .returning({ id: messages.id });
  if (!inserted) return undefined;
  const [rated] = await tx
    .update(csatRatings)
    .set({ score, answeredAt: now, answerMessageId: inserted.id })
    .where(and(eq(csatRatings.caseId, caseId), sql`${csatRatings.score} is null`))
    .returning({ caseId: csatRatings.caseId });
  if (!rated) return undefined;
  await announce(tx, {
    caseId,
    type: 'csat_answered',
    actor: 'customer',
    at: now,
    data: { messageId: inserted.id, score },
    slackText: `:star: The customer rated this case ${ratingStars(score)}. The case stays resolved.`,
  });
  return inserted.id;
}
