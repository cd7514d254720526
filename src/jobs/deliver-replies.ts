import { and, asc, eq } from 'drizzle-orm';
import type { Clock } from '../care/clock.js';
import { deferReply, holdSource, leaseDueReplies, markFailed, markRetry, markSent } from '../care/replies.js';
import { addNotice } from '../care/source-state.js';
import type { Database } from '../db/client.js';
import { type CaseRow, cases, messages, type ReplyRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { escapeText } from '../slack/mrkdwn.js';
import type { ReplyAdapter } from '../sources/types.js';
import { Job } from './job.js';

export interface DeliverRepliesOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** The adapter that answers on a case's platform. */
  adapterFor: (platform: string, sourceKey: string) => ReplyAdapter | undefined;
  /** The name customers see for an agent. */
  agentName: (userId: string) => Promise<string>;
  /** Called when Slack has something new to show (✅, ⚠️, the card's last reply). */
  onFeedback: () => void;
  batchSize?: number;
  leaseMs?: number;
  /** Attempts before a reply that keeps failing transiently is reported as failed. */
  maxAttempts?: number;
  schedule?: string;
}

/** Waits between attempts: quick at first, then patient. */
const BACKOFF_MS = [5_000, 15_000, 60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000];

/**
 * Sends replies whose undo window has ended, from the database: a restart, a crash or a second
 * instance neither loses nor repeats one. Each reply is leased with `FOR UPDATE SKIP LOCKED`;
 * transient failures come back with backoff, permanent ones stop with a reason for the agent.
 */
export class DeliverReplies extends Job {
  constructor(private readonly opts: DeliverRepliesOptions) {
    super(opts.logger, 'reply delivery');
  }

  start(): void {
    this.schedule(this.opts.schedule ?? '* * * * * *');
  }

  protected async round(): Promise<boolean> {
    // Keep going while rounds find work: a case's next reply becomes due when the one before is sent.
    return (await this.runOnce()) > 0;
  }

  /** Runs a round when `at` comes (the end of an undo window), in this process. */
  kickAt(at: Date): void {
    // 50 ms late, so the reply is due by the injected clock when the round looks.
    this.kickAfter(at.getTime() - this.opts.clock.now().getTime() + 50);
  }

  /** One round: lease the due replies and deliver each. Returns how many were leased. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const due = await leaseDueReplies(db, clock, this.opts.batchSize ?? 10, this.opts.leaseMs ?? 60_000);
    let feedback = false;
    // Sources that said to wait during this round (source key → until when).
    const waiting = new Map<string, Date>();
    for (const reply of due) {
      feedback = (await this.deliver(reply, waiting)) || feedback;
    }
    if (feedback) this.opts.onFeedback();
    return due.length;
  }

  /**
   * Credentials that stopped working fail every reply on the source, and the fix is an admin's, not
   * the agent's: the care channel hears it once a day while it lasts (the key holds the day).
   */
  private async credentialsNotice(caseRow: CaseRow, adapter: ReplyAdapter, reason: string): Promise<void> {
    const now = this.opts.clock.now();
    const queued = await addNotice(this.opts.db, {
      key: `reply-credentials:${caseRow.sourceKey}:${now.toISOString().slice(0, 10)}`,
      channelId: caseRow.channelId,
      text: `:warning: Replies on ${escapeText(adapter.label(caseRow.sourceKey))} are failing: ${escapeText(reason)} Failed replies keep their ⚠️ and a Retry button: press it once this is fixed.`,
      now,
    });
    if (queued)
      this.opts.logger.warn({ sourceKey: caseRow.sourceKey }, 'reply credentials failing; care channel told');
  }

  /** Delivers one reply; true when Slack has feedback to show. */
  private async deliver(reply: ReplyRow, waiting: Map<string, Date>): Promise<boolean> {
    const { db, clock, logger } = this.opts;
    const log = logger.child({ caseId: reply.caseId, replyId: reply.id, attempt: reply.attempts });
    const [caseRow] = await db.select().from(cases).where(eq(cases.id, reply.caseId));
    const wait = caseRow ? waiting.get(caseRow.sourceKey) : undefined;
    if (wait && wait > clock.now()) {
      await deferReply(db, reply, wait);
      return false;
    }
    const adapter = caseRow ? this.opts.adapterFor(caseRow.platform, caseRow.sourceKey) : undefined;
    if (!caseRow || !adapter) {
      await markFailed(
        db,
        clock,
        reply,
        `carebot cannot answer on ${caseRow?.platform ?? 'this platform'} yet`,
      );
      return true;
    }
    const [first] = await db
      .select({ authorId: messages.authorId })
      .from(messages)
      .where(and(eq(messages.caseId, caseRow.id), eq(messages.kind, 'inbound')))
      .orderBy(asc(messages.id))
      .limit(1);
    let outcome: Awaited<ReturnType<ReplyAdapter['reply']>>;
    try {
      outcome = await adapter.reply({
        replyId: reply.id,
        caseId: reply.caseId,
        sourceKey: caseRow.sourceKey,
        conversationId: caseRow.conversationId,
        inReplyTo: reply.inReplyTo,
        customerId: first?.authorId ?? '',
        mode: caseRow.replyMode,
        text: reply.text,
        agent: { id: reply.authorId, name: await this.opts.agentName(reply.authorId) },
        // Stable across automatic retries; new after a person presses Retry on a failed reply.
        idempotencyKey: reply.failures
          ? `carebot-reply-${reply.id}-${reply.failures}`
          : `carebot-reply-${reply.id}`,
      });
    } catch (err) {
      log.error({ err }, 'reply adapter threw');
      outcome = { ok: false, permanent: false, reason: 'an unexpected error while sending' };
    }
    if (outcome.ok) {
      await markSent(db, clock, reply, { externalId: outcome.externalId, url: outcome.url });
      log.info('reply delivered');
      return true;
    }
    // A repeat refused on a retry most likely means an earlier attempt went out and only its answer
    // was lost (a timeout): count it as delivered rather than tell the agent it failed.
    if (outcome.duplicate && reply.attempts > 1) {
      await markSent(db, clock, reply, {});
      log.warn('platform refused a resend as a duplicate; counting the earlier attempt as delivered');
      return true;
    }
    const maxAttempts = this.opts.maxAttempts ?? 8;
    if (outcome.permanent || reply.attempts >= maxAttempts) {
      const reason = outcome.permanent
        ? outcome.reason
        : `gave up after ${reply.attempts} attempts: ${outcome.reason}`;
      await markFailed(db, clock, reply, reason);
      log.warn({ reason }, 'reply not delivered');
      if (outcome.credentials) await this.credentialsNotice(caseRow, adapter, reason);
      return true;
    }
    const backoff =
      outcome.retryAfterMs ?? BACKOFF_MS[Math.min(reply.attempts - 1, BACKOFF_MS.length - 1)] ?? 60_000;
    const retryAt = new Date(clock.now().getTime() + Math.max(1000, backoff));
    if (outcome.retryAfterMs !== undefined) {
      // A rate limit holds the whole source (an incident statement to many customers, a busy day).
      waiting.set(caseRow.sourceKey, retryAt);
      const held = await holdSource(db, caseRow.sourceKey, clock.now(), retryAt);
      if (held) log.info({ held, until: retryAt }, 'rate limited: the source’s other replies wait too');
    }
    await markRetry(db, clock, reply, outcome.reason, retryAt, outcome.retryAfterMs !== undefined);
    this.kickAt(retryAt);
    log.warn({ reason: outcome.reason, retryAt }, 'reply delivery will be retried');
    return false;
  }
}
