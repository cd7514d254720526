import cron, { type ScheduledTask } from 'node-cron';

/**
 * A node-cron expression that fires about every `ms` (rounded to whole seconds or minutes, as
 * cron counts): 30 s → every 30 seconds, 2 m → every 2 minutes.
 */
export function cronEvery(ms: number): string {
  const secs = Math.max(1, Math.round(ms / 1000));
  if (secs < 60) return `*/${secs} * * * * *`;
  const mins = Math.max(1, Math.round(secs / 60));
  if (mins < 60) return `0 */${mins} * * * *`;
  const hrs = Math.max(1, Math.round(mins / 60));
  return `0 0 */${Math.min(hrs, 23)} * * *`;
}

/**
 * A job that runs at the times of a cron expression (the weekly digest, the nightly retention):
 * one run at a time, a failed run logged and left to the next firing, and `stop()` waiting for a
 * run in progress. The work itself decides whether another instance already did it.
 */
export class CronTask {
  private task: ScheduledTask | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly opts: {
      name: string;
      expression: string;
      timezone: string;
      run: () => Promise<unknown>;
      onError: (err: unknown) => void;
    },
  ) {}

  start(): void {
    this.task = cron.schedule(this.opts.expression, () => this.kick(), {
      timezone: this.opts.timezone,
      noOverlap: true,
      name: this.opts.name,
    });
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = undefined;
    await this.running;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.opts
      .run()
      .catch(this.opts.onError)
      .finally(() => {
        this.running = undefined;
      });
  }
}
