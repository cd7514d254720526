import type { Logger } from '../logger.js';
import type { SlackFailure } from '../slack/errors.js';

/**
 * Logs the Slack sync's failures at the right level, and a problem a person must fix (a missing
 * scope, a channel carebot is not in) once per channel until posting there works again, so an
 * outage of hours is one log line, not thousands.
 */
export class SlackProblems {
  /** Person-actionable problems already logged, by reason and channel. */
  private readonly reported = new Set<string>();

  constructor(private readonly logger: Logger) {}

  report(caseId: number, channel: string, failure: SlackFailure, attempts: number, waitMs: number): void {
    const { logger } = this;
    const fields = { caseId, channel, reason: failure.reason, attempts, retryInMs: waitMs };
    if (failure.kind === 'needs_person') {
      const key = `${failure.reason}:${channel}`;
      if (this.reported.has(key)) return;
      this.reported.add(key);
      logger.error({ ...fields, action: failure.hint }, `Slack refused to post: ${failure.hint}`);
    } else if (failure.kind === 'rejected') {
      logger.error(fields, 'Slack rejected a message; will retry slowly');
    } else if (failure.kind === 'rate_limited') {
      logger.warn(fields, 'Slack rate limit; waiting before posting to this channel again');
    } else if (attempts === 1 || attempts % 10 === 0) {
      logger.warn(fields, 'Slack unavailable; will retry');
    }
  }

  /** After a success, a later failure on the channel is news again and gets logged. */
  recovered(channel: string): void {
    if (this.reported.size === 0) return;
    for (const key of this.reported) {
      if (key.endsWith(`:${channel}`)) {
        this.reported.delete(key);
        this.logger.info({ channel }, 'Slack accepts posts to this channel again');
      }
    }
  }
}
