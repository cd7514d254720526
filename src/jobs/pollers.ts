import type { Clock } from '../care/clock.js';
import type { InboundMessage, RecordedInbound } from '../care/inbound.js';
import {
  addNotice,
  finishPoll,
  leaseDueSource,
  registerSources,
  type SourceState,
} from '../care/source-state.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { escapeText } from '../slack/mrkdwn.js';
import type { Poller, PollOutcome } from '../sources/types.js';
import { Job } from './job.js';

export interface PollRunnerOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  pollers: Poller[];
  /** Stores a message a poller found (and nudges the Slack sync). */
  record: (message: InboundMessage) => Promise<RecordedInbound>;
  /** Where notices about sources that need a person go. */
  noticeChannel: string;
  /** Called when a notice was queued, so it gets posted without waiting. */
  onNotice: () => void;
  /** How often a paused source is tried again, to notice that its credentials work again. */
  pausedRetryMs?: number;
  leaseMs?: number;
  schedule?: string;
}

/**
 * Runs every poller at its interval, on one instance at a time (a lease on its row), keeps its
 * cursor in the database and saves it only after the poll stored what it read. A 429 waits until
 * the platform's reset; failed credentials pause the source with one notice in the care channel,
 * and it is tried again now and then until they work.
 */
export class PollRunner extends Job {
  private readonly byKey: Map<string, Poller>;
  constructor(private readonly opts: PollRunnerOptions) {
    super(opts.logger, 'poll');
    this.byKey = new Map(opts.pollers.map((p) => [p.key, p]));
  }

  get size(): number {
    return this.byKey.size;
  }

  start(): void {
    if (this.byKey.size === 0) return;
    this.schedule(this.opts.schedule ?? '*/5 * * * * *');
  }

  protected round(): Promise<boolean> {
    return this.runOnce();
  }

  /** Polls one due source, if any; true when one was polled. */
  async runOnce(): Promise<boolean> {
    const { db, clock } = this.opts;
    const keys = [...this.byKey.keys()];
    // Cheap (one insert that usually conflicts) and keeps working if rows were removed by hand.
    await registerSources(db, keys, clock.now());
    const state = await leaseDueSource(db, keys, clock.now(), this.opts.leaseMs ?? 5 * 60_000);
    if (!state) return false;
    const poller = this.byKey.get(state.sourceKey);
    if (!poller) return true;
    const log = this.opts.logger.child({ source: poller.key });
    let outcome: PollOutcome;
    try {
      outcome = await poller.poll({
        cursor: state.cursor ?? undefined,
        clock,
        logger: log,
        record: this.opts.record,
      });
    } catch (err) {
      log.error({ err }, 'poller threw');
      outcome = { kind: 'failed', reason: 'an unexpected error' };
    }
    await this.settle(poller, state, outcome, log);
    return true;
  }

  private async settle(poller: Poller, lease: SourceState, outcome: PollOutcome, log: Logger) {
    const { db, clock } = this.opts;
    const { status } = lease;
    const now = clock.now();
    const next = new Date(now.getTime() + poller.everyMs);
    // Only the lease's holder records the outcome: a poll that outlived its lease (another
    // instance has polled since) neither moves the cursor nor tells the channel anything.
    const finish = async (change: Parameters<typeof finishPoll>[3]) => {
      const held = await finishPoll(db, lease, now, change);
      if (!held) log.warn('poll lease was lost before the poll ended; its outcome is not recorded');
      return held;
    };
    switch (outcome.kind) {
      case 'ok': {
        if (
          !(await finish({
            cursor: outcome.cursor,
            nextPollAt: next,
            status: 'active',
            pausedReason: null,
          }))
        )
          return;
        if (outcome.stored > 0) log.info({ stored: outcome.stored }, 'poll stored new messages');
        if (status === 'paused') {
          log.info('source works again');
          await this.notice(
            `resumed:${poller.key}:${now.toISOString()}`,
            `:white_check_mark: *${escapeText(poller.label)}* works again; carebot is reading it.`,
          );
        }
        return;
      }
      case 'rate_limited':
        log.warn({ retryAt: outcome.retryAt }, 'rate limited; waiting for the reset');
        await finish({
          cursor: outcome.cursor,
          nextPollAt: new Date(Math.max(outcome.retryAt.getTime(), now.getTime() + 1000)),
        });
        return;
      case 'auth_failed': {
        const retry = new Date(now.getTime() + (this.opts.pausedRetryMs ?? 5 * 60_000));
        if (!(await finish({ nextPollAt: retry, status: 'paused', pausedReason: outcome.reason }))) return;
        if (status === 'active') {
          log.error(
            { reason: outcome.reason, action: outcome.hint },
            'source paused: its credentials do not work',
          );
          await this.notice(
            `paused:${poller.key}:${now.toISOString()}`,
            `:warning: *${escapeText(poller.label)}* is paused: ${escapeText(outcome.reason)}. ${escapeText(outcome.hint)} carebot keeps trying every few minutes and says so here when it works again.`,
          );
        }
        return;
      }
      case 'failed':
        log.warn({ reason: outcome.reason }, 'poll failed; trying again at the next interval');
        await finish({ nextPollAt: next });
        return;
    }
  }

  private async notice(key: string, text: string): Promise<void> {
    const added = await addNotice(this.opts.db, {
      key,
      channelId: this.opts.noticeChannel,
      text,
      now: this.opts.clock.now(),
    });
    if (added) this.opts.onNotice();
  }
}
