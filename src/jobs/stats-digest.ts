import type { webApi } from '@slack/bolt';
import { DateTime } from 'luxon';
import { claimDigest } from '../care/channel-messages.js';
import { type Clock, minutes } from '../care/clock.js';
import { markNoticePosted } from '../care/source-state.js';
import { careStats } from '../care/stats.js';
import { statsPeriod } from '../care/stats-period.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { postStats, slackErrorCode, statsMessage, threadLink } from '../slack/stats.js';
import { CronTask } from './cron.js';

export interface StatsDigestOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  client: webApi.WebClient;
  config: Pick<Config, 'stats' | 'timezone' | 'businessHours' | 'teams'>;
}

export type DigestOutcome =
  | { kind: 'posted'; ts: string | undefined }
  /** No `stats.digest_channel` is configured. */
  | { kind: 'off' }
  /** Another instance (or an earlier run in the same minute) has it. */
  | { kind: 'duplicate' }
  | { kind: 'failed'; reason: string };

// If the poster dies mid-way, the Slack sync posts the digest's plain text after this long.
const HOLD = minutes(15);

/**
 * The weekly digest: the last 7 days' `/care-stats` figures and chart, posted to
 * `stats.digest_channel` on `stats.digest_cron` (in the config's time zone). Each firing is
 * claimed under a unique key first, so several instances post it once.
 */
export class StatsDigest {
  private readonly task: CronTask;

  constructor(private readonly opts: StatsDigestOptions) {
    this.task = new CronTask({
      name: 'stats-digest',
      expression: opts.config.stats.digestCron,
      timezone: opts.config.timezone,
      run: () => this.runOnce(),
      onError: (err) => opts.logger.error({ err }, 'stats digest failed'),
    });
  }

  start(): void {
    if (!this.opts.config.stats.digestChannel) {
      this.opts.logger.info('no stats.digest_channel configured; the weekly stats digest is off');
      return;
    }
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Posts the digest for the last 7 days up to now, unless this minute's digest is already taken. */
  async runOnce(): Promise<DigestOutcome> {
    const { db, clock, client, config, logger } = this.opts;
    const channelId = config.stats.digestChannel;
    if (!channelId) return { kind: 'off' };
    const now = clock.now();
    const period = statsPeriod({ kind: '7d' }, now, config.timezone);
    const stats = await careStats(db, { period, filter: {}, now, businessHours: config.businessHours });
    const options = { teams: config.teams, businessHours: config.businessHours };
    const minute = DateTime.fromJSDate(now, { zone: config.timezone }).toFormat("yyyy-MM-dd'T'HH:mm");
    const noticeId = await claimDigest(db, {
      key: `stats-digest:${channelId}:${minute}`,
      channelId,
      text: statsMessage(stats, { ...options, chart: 'attached' }).text,
      now,
      holdMs: HOLD,
    });
    if (noticeId === undefined) return { kind: 'duplicate' };
    const oldest = stats.backlog.oldestWaiting;
    try {
      const ts = await postStats(
        client,
        channelId,
        stats,
        {
          ...options,
          oldestWaitingLink: oldest ? await threadLink(client, oldest.caseId, oldest.thread) : undefined,
        },
        logger,
      );
      await markNoticePosted(db, noticeId, ts ?? 'unknown', clock.now());
      return { kind: 'posted', ts };
    } catch (err) {
      const reason = slackErrorCode(err);
      logger.error(
        { reason, channelId },
        reason === 'not_in_channel' || reason === 'channel_not_found'
          ? 'could not post the stats digest: invite carebot to stats.digest_channel (/invite @carebot); its text follows as a plain notice'
          : 'could not post the stats digest; its text follows as a plain notice',
      );
      return { kind: 'failed', reason };
    }
  }
}
