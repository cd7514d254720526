import { and, asc, eq } from 'drizzle-orm';
import type { Clock } from '../care/clock.js';
import { CSAT_AUTHOR, RATING_OPTIONS } from '../care/csat.js';
import {
  deferReply,
  dueReplyAuthors,
  extendReplyLease,
  holdSource,
  leaseDueReplies,
  markFailed,
  markRetry,
  markSent,
} from '../care/reply-delivery.js';
import { addNotice } from '../care/source-state.js';
import type { Database } from '../db/client.js';
import { type CaseRow, cases, messages, type ReplyRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { escapeText } from '../slack/mrkdwn.js';
import type { ReplyAdapter } from '../sources/types.js';
import { Job } from './job.js';

export interface DeliverRepliesOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** The adapter that answers on a case's platform. */
  adapterFor: (platform: string, sourceKey: string) => ReplyAdapter | undefined;
  /**
   * The name customers see for an agent (a cached Slack lookup). Called before a reply is leased,
   * never while one is: a slow lookup must not eat into the time a lease gives a send.
   */
  agentName: (userId: string) => Promise<string>;
  /** Called when Slack has something new to show (✅, ⚠️, the card's last reply). */
  onFeedback: () => void;
  /** Counts each reply this instance ended as sent or failed (only the lease holder ends one). */
  metrics?: Pick<Metrics, 'replyEnded'>;
  /** Replies sent per round, one after another, each under its own lease. */
  batchSize?: number;
  /**
   * How long a reply is leased; a send that takes longer extends it every third of it (a
   * heartbeat), so only a stalled or dead instance loses a reply to another.
   */
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

  /**
   * One round: resolve the names of the due replies' authors, then lease and deliver the due
   * replies one at a time, so no reply waits under a lease while others are sent. Returns how
   * many were leased.
   */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const batchSize = this.opts.batchSize ?? 10;
    const names = new Map<string, string>();
    // The rating question is carebot's own: no Slack user to look up.
    names.set(CSAT_AUTHOR, 'carebot');
    for (const authorId of await dueReplyAuthors(db, clock, batchSize)) {
      if (!names.has(authorId)) names.set(authorId, await this.opts.agentName(authorId));
    }
    let feedback = false;
    let leased = 0;
    // Sources that said to wait during this round (source key → until when).
    const waiting = new Map<string, Date>();
    while (leased < batchSize && !this.stopped) {
      const [reply] = await leaseDueReplies(db, clock, 1, this.leaseMs);
      if (!reply) break;
      leased += 1;
      const name = names.get(reply.authorId);
      if (name === undefined) {
        // Became due after the names were looked up: back at once, and the next round names it.
        await deferReply(db, reply, clock.now());
        break;
      }
      feedback = (await this.deliver(reply, name, waiting)) || feedback;
    }
    if (feedback) this.opts.onFeedback();
    return leased;
  }

  private get leaseMs(): number {
    return this.opts.leaseMs ?? 60_000;
  }

  /** A lease that was lost means another instance has the reply now: it is logged, and left alone. */
  private lost(log: Logger, ended: boolean, what: string): void {
    if (!ended) log.warn(`lease on the reply was lost before it could be ${what}; another instance has it`);
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
  private async deliver(reply: ReplyRow, agentName: string, waiting: Map<string, Date>): Promise<boolean> {
    const log = this.opts.logger.child({ caseId: reply.caseId, replyId: reply.id, attempt: reply.attempts });
    // The heartbeat runs from the lease until the platform has answered: a platform that takes its
    // time (Graph may take 15 s a call, and a comment may need two) keeps the reply this instance's.
    const heartbeat = this.heartbeat(reply, log);
    try {
      return await this.send(reply, agentName, waiting, log, heartbeat);
    } finally {
      heartbeat.stop();
    }
  }

  private heartbeat(reply: ReplyRow, log: Logger): { stop(): void } {
    const { db, clock } = this.opts;
    let lost = false;
    let stopped = false;
    const timer = setInterval(
      () => {
        extendReplyLease(db, clock, reply, this.leaseMs).then(
          (held) => {
            // Once stopped, the reply may already be marked sent: not holding it is no news.
            if (!held && !lost && !stopped) {
              lost = true;
              log.warn('lease on the reply was lost while it was being sent; another instance has it');
            }
          },
          (err: unknown) => log.warn({ err }, 'could not extend the lease on a reply being sent'),
        );
      },
      Math.max(20, Math.floor(this.leaseMs / 3)),
    );
    timer.unref();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
  }

  private async send(
    reply: ReplyRow,
    agentName: string,
    waiting: Map<string, Date>,
    log: Logger,
    heartbeat: { stop(): void },
  ): Promise<boolean> {
    const { db, clock } = this.opts;
    const [caseRow] = await db.select().from(cases).where(eq(cases.id, reply.caseId));
    const wait = caseRow ? waiting.get(caseRow.sourceKey) : undefined;
    if (wait && wait > clock.now()) {
      this.lost(log, await deferReply(db, reply, wait), 'put back');
      return false;
    }
    const adapter = caseRow ? this.opts.adapterFor(caseRow.platform, caseRow.sourceKey) : undefined;
    if (!caseRow || !adapter) {
      const ended = await markFailed(
        db,
        clock,
        reply,
        `carebot cannot answer on ${caseRow?.platform ?? 'this platform'} yet`,
      );
      if (ended && caseRow) this.opts.metrics?.replyEnded(caseRow.platform, 'failed');
      this.lost(log, ended, 'marked failed');
      return ended;
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
        agent: { id: reply.authorId, name: agentName },
        idempotencyKey: idempotencyKey(reply),
        outcomeUnknown: reply.outcomeUnknown,
        ...(reply.kind === 'csat' ? { quickReplies: RATING_OPTIONS } : {}),
      });
    } catch (err) {
      log.error({ err }, 'reply adapter threw');
      // It may have thrown after the request left: the next attempt looks before it sends.
      outcome = {
        ok: false,
        permanent: false,
        reason: 'an unexpected error while sending',
        outcomeUnknown: true,
      };
    } finally {
      heartbeat.stop();
    }
    if (outcome.ok) {
      const ended = await markSent(db, clock, reply, {
        externalId: outcome.externalId,
        url: outcome.url,
        note: outcome.note,
      });
      if (ended) this.opts.metrics?.replyEnded(caseRow.platform, 'sent');
      if (ended) log.info('reply delivered');
      else
        log.warn(
          'reply delivered, but its lease was lost: another instance has the reply and looks for it first',
        );
      return ended;
    }
    // A repeat refused on a retry most likely means an earlier attempt went out and only its answer
    // was lost (a timeout): count it as delivered rather than tell the agent it failed.
    if (outcome.duplicate && (reply.attempts > 1 || reply.outcomeUnknown)) {
      const ended = await markSent(db, clock, reply, {});
      if (ended) this.opts.metrics?.replyEnded(caseRow.platform, 'sent');
      this.lost(log, ended, 'marked sent');
      if (ended)
        log.warn('platform refused a resend as a duplicate; counting the earlier attempt as delivered');
      return ended;
    }
    const maxAttempts = this.opts.maxAttempts ?? 8;
    if (outcome.permanent || reply.attempts >= maxAttempts) {
      const reason = outcome.permanent
        ? outcome.reason
        : `gave up after ${reply.attempts} attempts: ${outcome.reason}`;
      const ended = await markFailed(db, clock, reply, reason);
      this.lost(log, ended, 'marked failed');
      if (!ended) return false;
      this.opts.metrics?.replyEnded(caseRow.platform, 'failed');
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
    const ended = await markRetry(
      db,
      clock,
      reply,
      outcome.reason,
      retryAt,
      outcome.retryAfterMs !== undefined,
      outcome.outcomeUnknown === true,
    );
    this.lost(log, ended, 'put back for a retry');
    if (!ended) return false;
    this.kickAt(retryAt);
    log.warn({ reason: outcome.reason, retryAt }, 'reply delivery will be retried');
    return false;
  }
}

/**
 * The key a platform may use to drop a resend: stable across automatic retries, new after a person
 * presses Retry on a failed reply. The reply's creation time makes it unique beyond this database:
 * ids start again in a fresh database (or another installation on the same account), and a
 * platform that remembers keys (Mastodon, for an hour) would answer an old, unrelated post.
 */
export function idempotencyKey(reply: Pick<ReplyRow, 'id' | 'failures' | 'createdAt'>): string {
  const base = `carebot-reply-${reply.id}-${reply.createdAt.getTime().toString(36)}`;
  return reply.failures ? `${base}-${reply.failures}` : base;
}
