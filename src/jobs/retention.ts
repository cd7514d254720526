import type { Clock, Duration } from '../care/clock.js';
import { expireCustomerText } from '../care/forget.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { CronTask } from './cron.js';

export interface RetentionOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** `retention.customer_text`; null: the job is off. */
  customerText: Duration | null;
  timezone: string;
  onChange: () => void;
  batchSize?: number;
}

/**
 * `retention.customer_text`: every night, erases what customers wrote in cases resolved longer ago
 * than that, the way `/care forget` does (care/forget.ts), in batches. Each batch takes its cases
 * with `FOR UPDATE SKIP LOCKED` and skips cases already erased, so when several instances fire at
 * once they split the work and no case is erased twice.
 */
export class Retention {
  private readonly task: CronTask;

  constructor(private readonly opts: RetentionOptions) {
    this.task = new CronTask({
      name: 'retention',
      expression: '0 30 3 * * *',
      timezone: opts.timezone,
      run: () => this.runOnce(),
      onError: (err) => opts.logger.error({ err }, 'retention round failed; the next night catches up'),
    });
  }

  start(): void {
    if (this.opts.customerText === null) return;
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Erases every case that is due; returns how many. */
  async runOnce(): Promise<number> {
    const keepFor = this.opts.customerText;
    if (keepFor === null) return 0;
    const started = Date.now();
    const erased = await expireCustomerText(this.opts.db, this.opts.clock, {
      keepFor,
      batchSize: this.opts.batchSize ?? 200,
    });
    if (erased > 0) {
      this.opts.logger.info(
        { cases: erased, ms: Date.now() - started },
        "retention: erased customers' words",
      );
      this.opts.onChange();
    }
    return erased;
  }
}
