import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { openCaseCounts, repliesPendingCount, slackPendingCount, sourceStates } from './care/gauges.js';
import type { Database } from './db/client.js';
import type { Logger } from './logger.js';

/** The clocks whose breach is counted (the unclaimed nudge has no breach). */
const BREACH_CLOCKS = ['first_response', 'next_response', 'resolution'] as const;
export type BreachClock = (typeof BREACH_CLOCKS)[number];

/** How long a scrape waits for one database gauge before it leaves that gauge out. */
export const GAUGE_TIMEOUT_MS = 3000;

/**
 * carebot's Prometheus metrics, one registry per instance (tests run several in one process).
 * Counters are kept by the code paths that do the work, so each instance counts what it did, once;
 * the gauges that describe the queues are read from the database at scrape time and are the same
 * on every instance. A scrape with the database down serves the counters and the process
 * metrics, and leaves out each database gauge that failed or took longer than GAUGE_TIMEOUT_MS.
 */
export class Metrics {
  /** Counters, the request histogram and the process metrics: always served. */
  readonly registry = new Registry();
  private readonly inbound = new Counter({
    name: 'carebot_inbound_messages_total',
    help: 'Customer messages stored by this instance (duplicates not counted), by platform.',
    labelNames: ['platform'] as const,
    registers: [this.registry],
  });
  private readonly replies = new Counter({
    name: 'carebot_replies_total',
    help: 'Replies this instance delivered (sent) or gave up on (failed), by platform.',
    labelNames: ['platform', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly breaches = new Counter({
    name: 'carebot_sla_breaches_total',
    help: "SLA deadlines this instance's sweep found missed, by clock.",
    labelNames: ['clock'] as const,
    registers: [this.registry],
  });
  private readonly requests = new Histogram({
    name: 'carebot_http_request_duration_seconds',
    help: 'HTTP requests by route pattern (unmatched for unknown paths) and status.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly casesOpen = new Gauge({
    name: 'carebot_cases_open',
    help: 'Open cases by priority (from the database).',
    labelNames: ['priority'] as const,
    registers: [],
  });
  private readonly casesUnclaimed = new Gauge({
    name: 'carebot_cases_unclaimed',
    help: 'Open cases nobody has claimed (from the database).',
    registers: [],
  });
  private readonly slackPending = new Gauge({
    name: 'carebot_slack_pending',
    help: 'Thread messages, notices and case cards not yet posted or updated in Slack (from the database).',
    registers: [],
  });
  private readonly repliesPending = new Gauge({
    name: 'carebot_replies_pending',
    help: 'Replies waiting to reach the customer: in the undo window, due, being sent or to be retried (from the database).',
    registers: [],
  });
  private readonly sourcePaused = new Gauge({
    name: 'carebot_source_paused',
    help: 'Polled sources: 1 while paused because their credentials stopped working, else 0 (from the database).',
    labelNames: ['source'] as const,
    registers: [],
  });
  private databaseFailing = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly gaugeTimeoutMs = GAUGE_TIMEOUT_MS,
  ) {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Starts every counter at 0 for these platforms and for each clock, so a rate over a series
   * that has not counted anything yet is 0 rather than missing.
   */
  expectPlatforms(platforms: readonly string[]): void {
    for (const platform of platforms) {
      this.inbound.inc({ platform }, 0);
      for (const outcome of ['sent', 'failed'] as const) this.replies.inc({ platform, outcome }, 0);
    }
    for (const clock of BREACH_CLOCKS) this.breaches.inc({ clock }, 0);
  }

  inboundStored(platform: string): void {
    this.inbound.inc({ platform });
  }

  replyEnded(platform: string, outcome: 'sent' | 'failed'): void {
    this.replies.inc({ platform, outcome });
  }

  slaBreached(clock: BreachClock): void {
    this.breaches.inc({ clock });
  }

  requestServed(route: string, status: number, seconds: number): void {
    this.requests.observe({ route, status: String(status) }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: the database gauges refreshed first, each left out if its query failed. */
  async scrape(): Promise<string> {
    const results = await Promise.allSettled([
      this.refresh([this.casesOpen, this.casesUnclaimed], async () => {
        const open = await openCaseCounts(this.db);
        return () => {
          for (const [priority, n] of Object.entries(open.byPriority)) this.casesOpen.set({ priority }, n);
          this.casesUnclaimed.set(open.unclaimed);
        };
      }),
      this.refresh([this.slackPending], async () => {
        const n = await slackPendingCount(this.db);
        return () => this.slackPending.set(n);
      }),
      this.refresh([this.repliesPending], async () => {
        const n = await repliesPendingCount(this.db);
        return () => this.repliesPending.set(n);
      }),
      this.refresh([this.sourcePaused], async () => {
        const states = await sourceStates(this.db);
        return () => {
          // A source removed from the config has no row to report any more.
          this.sourcePaused.reset();
          for (const s of states) this.sourcePaused.set({ source: s.source }, s.paused ? 1 : 0);
        };
      }),
    ]);
    const fresh = new Registry();
    const failed: unknown[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') for (const gauge of r.value) fresh.registerMetric(gauge);
      else failed.push(r.reason);
    }
    this.noteDatabase(failed);
    return `${await this.registry.metrics()}\n${await fresh.metrics()}`;
  }

  /** Runs one query within the gauge timeout, then sets its gauges; resolves with them. */
  private async refresh(gauges: Gauge[], query: () => Promise<() => void>): Promise<Gauge[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.gaugeTimeoutMs} ms`)),
        this.gaugeTimeoutMs,
      );
    });
    try {
      const apply = await Promise.race([query(), timeout]);
      apply();
      return gauges;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Says once when the database gauges start failing, and once when they answer again. */
  private noteDatabase(failed: unknown[]): void {
    if (failed.length > 0 && !this.databaseFailing) {
      this.databaseFailing = true;
      this.logger.warn(
        { err: failed[0], failed: failed.length },
        'metrics: database gauges left out of the scrape until the database answers again',
      );
    } else if (failed.length === 0 && this.databaseFailing) {
      this.databaseFailing = false;
      this.logger.info('metrics: database gauges are back');
    }
  }
}
