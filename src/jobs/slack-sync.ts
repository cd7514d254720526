// About 400 lines: one round of the sync (lease, card, outbox, failure) reads best in one class; the
// parts that stand alone are in slack-earlier-posts.ts, slack-outbox.ts and slack-problems.ts.
import type { types, webApi } from '@slack/bolt';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { loadCaseView } from '../care/case-view.js';
import { noticeTarget } from '../care/channel-messages.js';
import type { Clock } from '../care/clock.js';
import { leaseNotices, markNoticePosted, retryNoticeAt } from '../care/source-state.js';
import type { Team } from '../care/teams.js';
import { type Database, queryRows } from '../db/client.js';
import { cases, slackOutbox, slackThreads } from '../db/schema.js';
import { ts } from '../db/tx.js';
import type { Logger } from '../logger.js';
import { caseCard, fallbackCaseCard, fallbackThreadMessage } from '../slack/case-card.js';
import { classifySlackError, payloadRefusal, type SlackFailure } from '../slack/errors.js';
import { fitMessage } from '../slack/limits.js';
import { Job } from './job.js';
import {
  CARD_EVENT_TYPE,
  findPostedCard,
  findPostedInThread,
  THREAD_EVENT_TYPE,
} from './slack-earlier-posts.js';
import { renderOutboxItem, replyFeedback } from './slack-outbox.js';
import { SlackProblems } from './slack-problems.js';

type WebClient = webApi.WebClient;

/** A case this worker has leased, and the token that proves it. */
interface CaseLease {
  caseId: number;
  token: string;
}

/** `slack_last_error` of a case held back for its channel's rate limit (nothing was attempted). */
const HELD = 'held: channel rate limit';
/** The reason `classifySlackError` gives a 429, after which Slack has posted nothing. */
const RATE_LIMITED = 'rate limited (429)';

export interface SlackSyncOptions {
  db: Database;
  client: WebClient;
  clock: Clock;
  logger: Logger;
  teams: Team[];
  /** Cases leased per round. */
  batchSize?: number;
  /** How long one worker may hold a case before another may take it over (a crashed worker). */
  leaseMs?: number;
  /** Upper bound of the backoff after repeated transient failures. */
  maxBackoffMs?: number;
  /** node-cron expression of the catch-up run; immediate runs come from `kick()`. */
  schedule?: string;
}

/**
 * Brings Slack up to the database: posts the card of every case without a thread, updates cards
 * whose content changed, and posts the messages each thread is owed (customer follow-ups,
 * escalation mentions), in order. All of it is driven by rows, so a Slack outage, a 429 or a
 * restart only delays it. Cases are leased with `FOR UPDATE SKIP LOCKED`, so several carebot
 * instances share the work without doing any of it twice.
 */
export class SlackSync extends Job {
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly maxBackoffMs: number;
  /** channel → time before which we do not talk to it (after a 429). */
  private readonly channelPause = new Map<string, number>();
  private readonly problems: SlackProblems;

  constructor(private readonly opts: SlackSyncOptions) {
    super(opts.logger, 'slack sync');
    this.batchSize = opts.batchSize ?? 20;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5 * 60_000;
    this.problems = new SlackProblems(opts.logger);
  }

  start(): void {
    this.schedule(this.opts.schedule ?? '*/2 * * * * *');
  }

  protected async round(): Promise<boolean> {
    // Keep going while full batches come back, so a backlog drains without waiting for cron.
    return (await this.runOnce()) >= this.batchSize;
  }

  /** One round: lease due cases and sync each. Returns how many cases were leased. */
  async runOnce(): Promise<number> {
    const now = this.opts.clock.now();
    const until = new Date(now.getTime() + this.leaseMs);
    // `interrupted`: an earlier attempt leased the case and never released it cleanly (it failed,
    // was held back, or its process died), so that attempt may have posted the card already.
    const leased = await queryRows<{ id: number; channel_id: string; interrupted: boolean; token: string }>(
      this.opts.db,
      // The pending cases come from the two partial indexes (cards not yet posted, thread posts
      // not yet posted), each in id order and cut at one batch, so a round reads what is pending
      // and not the whole table: PostgreSQL cannot estimate `card_posted_version < card_version`,
      // and asked for `id in (…pending…) order by id` it walked the primary key (docs/BENCHMARKS.md).
      sql`with pending as (
            (select id from ${cases}
              where card_posted_version < card_version
                and (slack_lease_until is null or slack_lease_until <= ${ts(now)})
              order by id limit ${this.batchSize})
            union
            (select o.case_id from ${slackOutbox} o join ${cases} c on c.id = o.case_id
              where o.posted_ts is null
                and (c.slack_lease_until is null or c.slack_lease_until <= ${ts(now)})
              order by o.case_id limit ${this.batchSize})
          ),
          due as (
            select id,
              -- Held back for a channel's rate limit, or refused with a 429: Slack posted nothing.
              slack_lease_until is not null
                and coalesce(slack_last_error, '') not in (${HELD}, ${RATE_LIMITED}) as interrupted
            from ${cases}
            where id in (select id from pending order by id limit ${this.batchSize})
              and (slack_lease_until is null or slack_lease_until <= ${ts(now)})
            order by id
            for update skip locked)
          -- The error is the previous attempt's: cleared, so that if this attempt dies the next one
          -- sees an interrupted lease, not an old hold, and looks for what this one posted.
          -- Each lease gets its own token: only its holder may release, hold or fail the case.
          update ${cases} set slack_lease_until = ${ts(until)}, slack_last_error = null,
            slack_lease_token = gen_random_uuid()::text
          from due where ${cases}.id = due.id
          returning ${cases}.id, ${cases}.channel_id, due.interrupted, ${cases}.slack_lease_token as token`,
    );
    await this.postNotices(now);
    leased.sort((a, b) => a.id - b.id);
    for (const row of leased) {
      const lease = { caseId: Number(row.id), token: row.token };
      if (this.stopped) {
        await this.release(lease, now);
        continue;
      }
      await this.syncCase(lease, row.channel_id, Boolean(row.interrupted));
    }
    return leased.length;
  }

  /** Channel notices (a source paused or working again), each once. */
  private async postNotices(now: Date): Promise<void> {
    const { db, clock } = this.opts;
    const due = await leaseNotices(db, now, this.leaseMs);
    for (const notice of due) {
      if ((this.channelPause.get(notice.channelId) ?? 0) > now.getTime()) {
        await retryNoticeAt(db, notice, new Date(this.channelPause.get(notice.channelId) ?? now.getTime()));
        continue;
      }
      try {
        // Crisis alerts and incidents: blocks, a parent thread, or an update of an earlier message.
        const target = await noticeTarget(db, notice);
        if (target.kind === 'wait') {
          await retryNoticeAt(db, notice, new Date(clock.now().getTime() + 1000));
          continue;
        }
        // The blocks were rendered by slack/ when the notice was queued; care/ stores them without
        // knowing Slack's types, so they are read back as what they were written as.
        const content = fitMessage({
          text: notice.text,
          blocks: (notice.blocks as types.KnownBlock[] | null) ?? [
            { type: 'section', text: { type: 'mrkdwn', text: notice.text } },
          ],
        });
        const res =
          target.kind === 'update'
            ? await this.opts.client.chat.update({
                channel: target.channel,
                ts: target.ts,
                ...content,
              })
            : await this.opts.client.chat.postMessage({
                channel: target.channel,
                ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
                ...content,
                unfurl_links: false,
              });
        if (!(await markNoticePosted(db, notice, res.ts as string, clock.now())))
          this.opts.logger.warn({ noticeId: notice.id }, 'notice posted after its lease was lost');
      } catch (err) {
        const failure = classifySlackError(err);
        const wait = this.backoff(failure, 3);
        if (failure.kind === 'rate_limited')
          this.channelPause.set(notice.channelId, clock.now().getTime() + wait);
        await retryNoticeAt(db, notice, new Date(clock.now().getTime() + wait));
        this.opts.logger.warn(
          { reason: failure.reason, noticeId: notice.id },
          'could not post a notice; will retry',
        );
      }
    }
  }

  private async syncCase(lease: CaseLease, channel: string, interrupted = false): Promise<void> {
    const { db, clock } = this.opts;
    const { caseId } = lease;
    const pausedUntil = this.channelPause.get(channel) ?? 0;
    if (pausedUntil > clock.now().getTime()) {
      await this.holdUntil(lease, new Date(pausedUntil));
      this.kickAfter(pausedUntil - clock.now().getTime() + 20);
      return;
    }
    try {
      const view = await loadCaseView(db, caseId);
      if (!view) {
        await this.release(lease, clock.now());
        return;
      }
      const [thread] = await db.select().from(slackThreads).where(eq(slackThreads.caseId, caseId));
      const card = caseCard(view, this.opts.teams);
      let threadTs: string;
      if (!thread) {
        const earlier = interrupted
          ? await findPostedCard(this.opts.client, this.opts.logger, channel, caseId)
          : undefined;
        const res = earlier
          ? { ts: earlier, channel }
          : await this.orFallback(
              caseId,
              card,
              (reason) => fallbackCaseCard(view, this.opts.teams, reason),
              (content) =>
                this.opts.client.chat.postMessage({
                  channel,
                  ...content,
                  unfurl_links: false,
                  unfurl_media: false,
                  metadata: { event_type: CARD_EVENT_TYPE, event_payload: { case_id: caseId } },
                }),
            );
        if (earlier)
          this.opts.logger.info(
            { caseId, channel, ts: earlier },
            'adopted a card posted by an interrupted attempt',
          );
        threadTs = res.ts as string;
        await db.transaction(async (tx) => {
          await tx
            .insert(slackThreads)
            .values({ caseId, channelId: res.channel ?? channel, threadTs, postedAt: clock.now() })
            .onConflictDoNothing();
          await tx
            .update(cases)
            .set({ cardPostedVersion: sql`greatest(${cases.cardPostedVersion}, ${view.case.cardVersion})` })
            .where(eq(cases.id, caseId));
        });
        this.opts.logger.info({ caseId, channel, ts: threadTs }, 'case posted to Slack');
      } else {
        threadTs = thread.threadTs;
        if (view.case.cardPostedVersion < view.case.cardVersion) {
          await this.orFallback(
            caseId,
            card,
            (reason) => fallbackCaseCard(view, this.opts.teams, reason),
            (content) =>
              this.opts.client.chat.update({ channel: thread.channelId, ts: thread.threadTs, ...content }),
          );
          await db
            .update(cases)
            .set({ cardPostedVersion: sql`greatest(${cases.cardPostedVersion}, ${view.case.cardVersion})` })
            .where(eq(cases.id, caseId));
        }
        channel = thread.channelId;
      }
      await this.postOutbox(caseId, channel, threadTs, interrupted);
      await this.release(lease, clock.now());
      this.problems.recovered(channel);
    } catch (err) {
      await this.failed(lease, channel, err);
    }
  }

  /**
   * Posts the messages the thread is owed, oldest first; stops at the first failure to keep order.
   * After an interrupted attempt, a message that attempt posted is adopted rather than posted again.
   */
  private async postOutbox(
    caseId: number,
    channel: string,
    threadTs: string,
    interrupted: boolean,
  ): Promise<void> {
    const { db, clock } = this.opts;
    const pending = await db
      .select()
      .from(slackOutbox)
      .where(and(eq(slackOutbox.caseId, caseId), isNull(slackOutbox.postedTs)))
      .orderBy(asc(slackOutbox.id));
    // Looked up once, before the first post, and only when an earlier attempt may have posted.
    let earlier: Map<number, string> | undefined;
    for (const item of pending) {
      if (item.kind === 'redact' || item.kind === 'refresh') {
        await this.redact(caseId, channel, item);
        continue;
      }
      if (item.kind === 'reply_sent' || item.kind === 'reply_failed')
        await replyFeedback(db, this.opts.client, item);
      const rendered = await renderOutboxItem(db, this.opts.teams, item);
      const content = rendered && fitMessage(rendered);
      if (!content) {
        await db
          .update(slackOutbox)
          .set({ postedTs: '', postedAt: clock.now() })
          .where(eq(slackOutbox.id, item.id));
        continue;
      }
      if (interrupted && !earlier)
        earlier = await findPostedInThread(db, this.opts.client, this.opts.logger, caseId, channel, threadTs);
      const adopted = earlier?.get(item.id);
      const ts =
        adopted ??
        ((
          await this.orFallback(caseId, content, fallbackThreadMessage, (message) =>
            this.opts.client.chat.postMessage({
              channel,
              thread_ts: threadTs,
              ...message,
              unfurl_links: false,
              unfurl_media: false,
              metadata: { event_type: THREAD_EVENT_TYPE, event_payload: { outbox_id: item.id } },
            }),
          )
        ).ts as string);
      if (adopted)
        this.opts.logger.info(
          { caseId, outboxId: item.id, ts: adopted },
          'adopted a thread message posted by an interrupted attempt',
        );
      await db
        .update(slackOutbox)
        .set({ postedTs: ts, postedAt: clock.now() })
        .where(eq(slackOutbox.id, item.id));
    }
  }

  /**
   * A thread message whose words were erased (care/forget.ts), or whose subject changed (`refresh`:
   * a trainee's reply approved or rejected): rendered again from its rows and updated in place. A
   * message someone deleted in Slack meanwhile needs nothing more.
   */
  private async redact(
    caseId: number,
    channel: string,
    item: typeof slackOutbox.$inferSelect,
  ): Promise<void> {
    const { db, clock } = this.opts;
    const [target] = await db.select().from(slackOutbox).where(eq(slackOutbox.id, item.refId));
    const rendered = target?.postedTs ? await renderOutboxItem(db, this.opts.teams, target) : undefined;
    if (target?.postedTs && rendered) {
      const ts = target.postedTs;
      try {
        await this.orFallback(caseId, fitMessage(rendered), fallbackThreadMessage, (content) =>
          this.opts.client.chat.update({ channel, ts, ...content }),
        );
      } catch (err) {
        const code = (err as { data?: { error?: string } }).data?.error;
        if (code !== 'message_not_found' && code !== 'cant_update_message') throw err;
      }
    }
    await db
      .update(slackOutbox)
      .set({ postedTs: target?.postedTs ?? '', postedAt: clock.now() })
      .where(eq(slackOutbox.id, item.id));
  }

  /**
   * Sends `content`; when Slack refuses that payload itself (`invalid_blocks`, `msg_too_long`, …),
   * which no retry can fix, logs Slack's explanation with the case id and sends the minimal
   * `fallback` instead, so the case reaches the channel and its later messages are not held back.
   * Any other failure (and a refused fallback) is thrown to the usual retry path.
   */
  private async orFallback<T>(
    caseId: number,
    content: { text: string; blocks?: unknown[] },
    fallback: (reason: string) => { text: string; blocks: unknown[] },
    send: (content: { text: string; blocks?: unknown[] }) => Promise<T>,
  ): Promise<T> {
    try {
      return await send(content);
    } catch (err) {
      const refused = payloadRefusal(err);
      if (!refused) throw err;
      this.opts.logger.error(
        { caseId, reason: refused.reason, slackMessages: refused.messages },
        'Slack refused a message carebot built; sending a minimal one instead',
      );
      return await send(fitMessage(fallback(refused.reason)));
    }
  }

  /**
   * Ends this lease, and only this one: a lease that ran out meanwhile belongs to another worker
   * now, which is left alone (logged).
   */
  private async release(lease: CaseLease, _now: Date): Promise<void> {
    const rows = await this.opts.db
      .update(cases)
      .set({ slackLeaseUntil: null, slackLeaseToken: null, slackAttempts: 0, slackLastError: null })
      .where(this.held(lease))
      .returning({ id: cases.id });
    if (rows.length === 0) this.leaseLost(lease);
  }

  private async holdUntil(lease: CaseLease, until: Date): Promise<void> {
    const rows = await this.opts.db
      .update(cases)
      .set({ slackLeaseUntil: until, slackLastError: HELD })
      .where(this.held(lease))
      .returning({ id: cases.id });
    if (rows.length === 0) this.leaseLost(lease);
  }

  private held(lease: CaseLease) {
    return and(eq(cases.id, lease.caseId), eq(cases.slackLeaseToken, lease.token));
  }

  private leaseLost(lease: CaseLease): void {
    this.opts.logger.warn(
      { caseId: lease.caseId },
      'Slack lease on the case was lost before it ended; another worker has the case',
    );
  }

  private async failed(lease: CaseLease, channel: string, err: unknown): Promise<void> {
    const { db, clock } = this.opts;
    const { caseId } = lease;
    const failure = classifySlackError(err);
    const [row] = await db
      .update(cases)
      .set({ slackAttempts: sql`${cases.slackAttempts} + 1`, slackLastError: failure.reason })
      .where(this.held(lease))
      .returning({ attempts: cases.slackAttempts });
    if (!row) {
      this.leaseLost(lease);
      return;
    }
    const attempts = row?.attempts ?? 1;
    const waitMs = this.backoff(failure, attempts);
    const until = new Date(clock.now().getTime() + waitMs);
    if (failure.kind === 'rate_limited') {
      this.channelPause.set(channel, until.getTime());
      // Come back the moment Slack allows it, not at the next cron tick: under a burst that is the
      // difference between one post a second and one every two.
      this.kickAfter(waitMs + 20);
    }
    await db.update(cases).set({ slackLeaseUntil: until }).where(this.held(lease));
    this.problems.report(caseId, channel, failure, attempts, waitMs);
  }

  private backoff(failure: SlackFailure, attempts: number): number {
    if (failure.kind === 'rate_limited') return failure.retryAfterMs;
    if (failure.kind === 'needs_person') return this.maxBackoffMs;
    // 1 s, 2 s, 4 s … up to the cap: quick recovery from a blip, no hammering during an outage.
    return Math.min(this.maxBackoffMs, 1000 * 2 ** Math.min(attempts - 1, 20));
  }
}
