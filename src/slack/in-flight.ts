/**
 * The Slack requests carebot is handling right now (HTTP mode and Socket Mode alike): shutdown waits
 * for them, bounded, before it stops the jobs and closes the database, so a click or a thread reply
 * that Slack saw acknowledged is not cut off halfway by a deploy.
 */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];
  /** Set by shutdown: new Slack work is refused (and not acknowledged) from then on. */
  closing = false;

  get size(): number {
    return this.count;
  }

  /** Counts one piece of work until the returned function is called (once; later calls do nothing). */
  begin(): () => void {
    this.count += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count -= 1;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves true once nothing is in flight, or false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let wake: () => void = () => {};
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}
