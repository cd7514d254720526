import type { Clock, Duration } from '../../src/care/clock.js';

/** A clock that only moves when a test moves it. */
export class ManualClock implements Clock {
  private current: Date;
  constructor(start = '2026-11-23T10:00:00Z') {
    this.current = new Date(start);
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(by: Duration): void {
    this.current = new Date(this.current.getTime() + by);
  }
  set(at: string | Date): void {
    this.current = new Date(at);
  }
}
