import { queueChannelMessage } from '../care/channel-messages.js';
import type { Clock } from '../care/clock.js';
import { alertStep, type Cluster, findClusters, judgeVolume, termHistory, topTerms } from '../care/crisis.js';
import {
  casesOpenedBetween,
  clearAlert,
  openAlert,
  openAlerts,
  readVolume,
  stillAbove,
  type WindowCase,
} from '../care/crisis-alerts.js';
import { activeCrisis, crisisTargets, startCrisisMode } from '../care/crisis-mode.js';
import type { SlaSettings } from '../care/sla.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { CrisisAlertRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { alertMessage, allClearMessage, clearedAlertMessage, crisisBanner } from '../slack/crisis.js';
import { cronEvery } from './cron.js';
import { Job } from './job.js';

export interface CrisisWatchOptions {
  db: Database;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'crisis' | 'careChannelId' | 'managersUsergroup' | 'teams'>;
  /** The SLA settings every part of this instance uses; crisis targets are set on them while the mode is on. */
  sla: SlaSettings;
  /** Slack has something new to post. */
  onChange: () => void;
  /** Extra work each round (incidents link new cases by keywords). */
  alsoEachRound?: (now: Date) => Promise<boolean>;
  schedule?: string;
}

export interface WatchReport {
  alerted: CrisisAlertRow[];
  cleared: CrisisAlertRow[];
  crisisMode: boolean;
}

const WEEK_MS = 7 * 86_400_000;
/** Cases read for a window's terms, and for the usual terms of past weeks: enough to judge, bounded. */
const WINDOW_CASES = 2_000;
const USUAL_CASES = 5_000;

export const alertKey = (id: number) => `crisis-alert:${id}`;

/**
 * The crisis watch: every `crisis.check_every`, compares each platform's new cases in the last
 * `crisis.window` with the same window of past weeks, and looks for new cases that share unusual
 * terms. A storm gets one alert in the crisis channel (the alert row's partial unique index makes
 * it one across instances) and an all-clear once it has been calm for `crisis.calm_after`. It also
 * keeps this instance's SLA settings in step with crisis mode, wherever it was turned on.
 */
export class CrisisWatch extends Job {
  constructor(private readonly opts: CrisisWatchOptions) {
    super(opts.logger, 'crisis watch');
  }

  start(): void {
    this.schedule(this.opts.schedule ?? cronEvery(this.opts.config.crisis.checkEvery));
  }

  protected async round(): Promise<boolean> {
    await this.runOnce();
    return false;
  }

  async runOnce(): Promise<WatchReport> {
    const { db, clock, config, sla } = this.opts;
    const now = clock.now();
    const active = await activeCrisis(db);
    sla.crisis = active ? crisisTargets(config.crisis) : undefined;
    const report: WatchReport = { alerted: [], cleared: [], crisisMode: Boolean(active) };
    if (config.crisis.watch) await this.watch(now, report);
    const more = this.opts.alsoEachRound ? await this.opts.alsoEachRound(now) : false;
    if (report.alerted.length || report.cleared.length || more) this.opts.onChange();
    return report;
  }

  private async watch(now: Date, report: WatchReport): Promise<void> {
    const { db, config, logger } = this.opts;
    const c = config.crisis;
    const from = new Date(now.getTime() - c.window);
    const [readings, open, windowCases, usualCases] = [
      await readVolume(db, now, c.window, c.baselineWeeks),
      await openAlerts(db),
      await casesOpenedBetween(db, from, now, WINDOW_CASES),
      await casesOpenedBetween(db, new Date(now.getTime() - c.baselineWeeks * WEEK_MS), from, USUAL_CASES),
    ];
    const usual = termHistory(usualCases.map((x) => x.text));
    const platforms = new Set([
      ...readings.keys(),
      ...open.filter((a) => a.kind === 'spike' && a.platform).map((a) => a.platform as string),
    ]);
    for (const platform of platforms) {
      const reading = readings.get(platform) ?? { count: 0, history: [] };
      const judged = judgeVolume(reading, c);
      const current = open.find((a) => a.scope === `spike:${platform}`);
      const step = alertStep(current, judged.spike, now, c.calmAfter);
      if (step === 'alert') {
        const mine = windowCases.filter((x) => x.platform === platform);
        const row = await this.alert({
          kind: 'spike',
          scope: `spike:${platform}`,
          platform,
          now,
          count: reading.count,
          baseline: judged.baseline,
          terms: topTerms(
            mine.map((x) => x.text),
            usual,
          ),
          samples: mine.slice(0, 3),
        });
        if (row) {
          report.alerted.push(row);
          logger.warn(
            { alertId: row.id, platform, count: reading.count, baseline: judged.baseline },
            'crisis watch: spike',
          );
        }
      } else if (step === 'still' && current) {
        await stillAbove(db, current.id, now, reading.count);
      } else if (step === 'clear' && current) {
        const row = await this.clear(current, now);
        if (row) report.cleared.push(row);
      }
    }
    await this.watchClusters(now, report, windowCases, usual);
  }

  private async watchClusters(
    now: Date,
    report: WatchReport,
    windowCases: WindowCase[],
    usual: ReturnType<typeof termHistory>,
  ): Promise<void> {
    const { db, config, logger } = this.opts;
    const c = config.crisis;
    const clusters = findClusters(windowCases, usual, c.cluster);
    // Read again: another instance may have alerted for this storm since this round began.
    const fresh = await openAlerts(db);
    const openClusters = fresh.filter((a) => a.kind === 'cluster');
    const seen = new Set<number>();
    const spikesNow = fresh.filter((a) => a.kind === 'spike');
    for (const cluster of clusters) {
      const existing = openClusters.find((a) => a.terms.some((t) => cluster.terms.includes(t)));
      if (existing) {
        seen.add(existing.id);
        await stillAbove(db, existing.id, now, cluster.caseIds.length);
        continue;
      }
      // Most of its cases are on a platform with a spike alert open: that storm is announced.
      const platforms = windowCases.filter((x) => cluster.caseIds.includes(x.caseId)).map((x) => x.platform);
      const inSpike = platforms.filter((p) => spikesNow.some((a) => a.platform === p)).length;
      if (inSpike * 2 >= platforms.length && platforms.length > 0) continue;
      const row = await this.alert({
        kind: 'cluster',
        scope: `cluster:${cluster.terms[0]}`,
        now,
        count: cluster.caseIds.length,
        baseline: expected(cluster),
        terms: cluster.terms.slice(0, 5),
        samples: windowCases.filter((x) => cluster.caseIds.includes(x.caseId)).slice(0, 3),
      });
      if (row) {
        seen.add(row.id);
        report.alerted.push(row);
        logger.warn({ alertId: row.id, terms: row.terms, count: row.count }, 'crisis watch: cluster');
      }
    }
    for (const alert of openClusters) {
      if (seen.has(alert.id)) continue;
      if (alertStep(alert, false, now, c.calmAfter) === 'clear') {
        const row = await this.clear(alert, now);
        if (row) report.cleared.push(row);
      }
    }
  }

  private async alert(input: {
    kind: 'spike' | 'cluster';
    scope: string;
    platform?: string;
    now: Date;
    count: number;
    baseline: number;
    terms: string[];
    samples: WindowCase[];
  }): Promise<CrisisAlertRow | undefined> {
    const { db, config, clock, sla } = this.opts;
    const c = config.crisis;
    const crisisOn = Boolean(await activeCrisis(db)) || c.modeOnAlert;
    const mention = [...(config.managersUsergroup ? [config.managersUsergroup] : []), ...c.mention];
    const row = await openAlert(
      db,
      { ...input, sampleCaseIds: input.samples.map((s) => s.caseId) },
      async (alert, tx) => {
        await queueChannelMessage(tx, {
          key: alertKey(alert.id),
          channelId: c.channelId,
          ...alertMessage(alert, {
            samples: input.samples,
            mention,
            teams: config.teams,
            window: c.window,
            crisisOn,
          }),
          now: input.now,
        });
      },
    );
    if (row && c.modeOnAlert) {
      const targets = crisisTargets(c);
      await startCrisisMode(db, clock, {
        userId: 'carebot',
        reason: row.kind === 'spike' ? `spike on ${row.platform}` : `cluster: ${row.terms.join(', ')}`,
        alertId: row.id,
        sla,
        targets,
        careChannelId: config.careChannelId,
        banner: (period) => crisisBanner(period, targets),
      });
    }
    return row;
  }

  private async clear(alert: CrisisAlertRow, now: Date): Promise<CrisisAlertRow | undefined> {
    const { db, config } = this.opts;
    const c = config.crisis;
    const crisisOn = Boolean(await activeCrisis(db));
    const row = await clearAlert(db, alert.id, now, async (cleared, tx) => {
      await queueChannelMessage(tx, {
        key: `${alertKey(cleared.id)}:all-clear`,
        channelId: c.channelId,
        threadKey: alertKey(cleared.id),
        ...allClearMessage(cleared, { calmAfter: c.calmAfter, crisisOn }),
        now,
      });
      await queueChannelMessage(tx, {
        key: `${alertKey(cleared.id)}:cleared`,
        channelId: c.channelId,
        replacesKey: alertKey(cleared.id),
        ...clearedAlertMessage(cleared, { window: c.window }),
        now,
      });
    });
    if (row) this.opts.logger.info({ alertId: row.id, scope: row.scope }, 'crisis watch: all clear');
    return row;
  }
}

/** The usual number of cases with a cluster's terms in a window of this size. */
function expected(cluster: Cluster): number {
  return cluster.lift > 0 ? cluster.caseIds.length / cluster.lift : 0;
}
