import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';

/**
 * What every background job shares: a node-cron schedule, `kick()` for an immediate round (calls
 * while one runs coalesce into one more), and a `stop()` that waits for the round in flight. The
 * work itself lives in the database, so a round that fails only delays it to the next one.
 */
export abstract class Job {
  private running: Promise<void> | undefined;
  private again = false;
  protected stopped = false;
  private task: ScheduledTask | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly jobLogger: Logger,
    private readonly jobName: string,
  ) {}

  /** One round of work; true when there may be more to do right away. */
  protected abstract round(): Promise<boolean>;

  protected schedule(expression: string): void {
    this.task = cron.schedule(expression, () => this.kick(), { noOverlap: true });
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Runs a round after `ms` (e.g. when a rate limit or an undo window ends), in this process. */
  protected kickAfter(ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.kick();
      },
      Math.min(2 ** 31 - 1, Math.max(0, ms)),
    );
    timer.unref();
    this.timers.add(timer);
  }

  /** Resolves when no round is in flight (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops scheduling rounds and waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.task?.stop();
    await this.idle();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped && (await this.round())) {}
      } catch (err) {
        this.jobLogger.error({ err }, `${this.jobName} round failed`);
      }
    } while (this.again && !this.stopped);
  }
}
