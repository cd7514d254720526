// Over 400 lines on purpose: the composition root, where every part is built and wired in one
// place (sources come from src/sources/index.ts in one loop); the parts live in their own modules.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { webApi } from '@slack/bolt';
import { buildSlackApp, type SlackApp } from './app.js';
import {
  conversationOfMessage,
  isInboundStored,
  recordCustomerChange,
  recordInbound,
} from './care/case-inbound.js';
import { type Clock, milliseconds, minutes, seconds, systemClock } from './care/clock.js';
import type { InboundMessage } from './care/inbound.js';
import { autoLink } from './care/incident-links.js';
import { Permissions } from './care/permissions.js';
import { slaSettings } from './care/sla.js';
import { toneRules } from './care/tone.js';
import { checkSetupInBackground } from './check/index.js';
import { type Config, ConfigError, loadConfig, settingsOf, setVariables } from './config.js';
import { type DatabaseHandle, openDatabase } from './db/client.js';
import { metricsHandler } from './http/metrics.js';
import { createHttpServer, healthHandler, listen, type Routes } from './http/server.js';
import { AutoAssign } from './jobs/auto-assign.js';
import { AutoResolve } from './jobs/auto-resolve.js';
import { CrisisWatch } from './jobs/crisis-watch.js';
import { cronEvery } from './jobs/cron.js';
import { DeliverReplies } from './jobs/deliver-replies.js';
import { EscalationSweep } from './jobs/escalation-sweep.js';
import { PollRunner } from './jobs/pollers.js';
import { Retention } from './jobs/retention.js';
import { SlaSweep } from './jobs/sla-sweep.js';
import { SlackSync } from './jobs/slack-sync.js';
import { StatsDigest } from './jobs/stats-digest.js';
import { boltLogger, chooseLogFormat, createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { customerChangeText } from './slack/case-card.js';
import { autoLinkedNote, incidentTexts } from './slack/incident.js';
import { People } from './slack/people.js';
import { SlackWhereabouts } from './slack/presence.js';
import { sources } from './sources/index.js';
import type { SourceDeps, SourceModule, SourceParts } from './sources/types.js';
import { decideStartMode, incompleteMessage, noSandboxHereMessage } from './start-mode.js';

export interface Carebot {
  /** The port the HTTP server listens on (useful with PORT=0). */
  port: number;
  /** The address it listens on: `::` (all interfaces) unless started with `host`. */
  host: string;
  db: DatabaseHandle;
  sync: SlackSync;
  deliver: DeliverReplies;
  slaSweep: SlaSweep;
  pollers: PollRunner;
  escalationSweep: EscalationSweep;
  /** Nudges and resolves cases whose customer stays silent; only when `auto_resolve.after` is set. */
  autoResolve: AutoResolve | undefined;
  crisisWatch: CrisisWatch;
  retention: Retention;
  /** Hands unclaimed cases out (assignment.mode `round_robin`); undefined when assignment is off. */
  autoAssign: AutoAssign | undefined;
  slack: SlackApp;
  /** This instance's Prometheus metrics (its own registry), served on `GET /metrics`. */
  metrics: Metrics;
  /** Stops taking work, finishes what is in flight, closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  /** Tests drive the sync by hand; production runs it on its schedule. */
  schedule?: boolean;
  /** An already open database (tests); otherwise the one the config names is opened. */
  database?: DatabaseHandle;
  /** The address the HTTP server listens on; default all interfaces. The sandbox keeps it on 127.0.0.1. */
  host?: string;
  /**
   * How long `stop()` waits for the Slack requests in flight (clicks, thread messages, forms,
   * commands) before it stops the jobs and closes the database anyway. Default 10 s.
   */
  shutdownGraceMs?: number;
  /**
   * Run the setup check (`npm run check`) once in the background after the server listens, logging
   * what fails. Off unless asked: the CLI entry asks, tests and the sandbox do not.
   */
  setupCheck?: boolean;
}

/** Default of `StartOptions.shutdownGraceMs`: well inside the 30 s a container platform usually gives after SIGTERM. */
export const SHUTDOWN_GRACE_MS = 10_000;

export async function startCarebot(opts: StartOptions): Promise<Carebot> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const db = opts.database ?? (await openDatabase(config.database));
  try {
    await db.migrate();
    logger.info({ database: db.kind }, 'database ready');
    const metrics = new Metrics(db.db, logger);
    const client = new webApi.WebClient(config.slack.botToken, {
      slackApiUrl: config.slack.apiUrl,
      logger: boltLogger(logger),
      // The sync job owns retries: it keeps the work in the database and backs off per case.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      // A hung call must end well inside the sync job's lease, or another instance could post the same thing.
      timeout: 15_000,
    });
    const sync = new SlackSync({
      db: db.db,
      client,
      clock,
      logger: logger.child({ job: 'slack-sync' }),
      teams: config.teams,
    });
    const kickSync = () => sync.kick();
    const sla = slaSettings(config);
    const slaSweep = new SlaSweep({
      db: db.db,
      clock,
      logger: logger.child({ job: 'sla-sweep' }),
      settings: sla,
      careTeamUsergroup: config.careTeamUsergroup,
      managersUsergroup: config.managersUsergroup,
      teams: config.teams,
      breachEscalateTo: config.sla.breachEscalateTo,
      rules: config.escalation.rules,
      releaseOnBreach: config.sla.releaseOnBreach,
      metrics,
      onChange: kickSync,
      schedule: cronEvery(config.sla.checkEvery),
    });
    const escalationSweep = new EscalationSweep({
      db: db.db,
      clock,
      logger: logger.child({ job: 'escalation-sweep' }),
      teams: config.teams,
      updateEveryMs: config.escalation.updateEvery,
      onChange: kickSync,
    });
    const { after, nudgeAfter } = config.autoResolve;
    const autoResolve =
      after === null
        ? undefined
        : new AutoResolve({
            db: db.db,
            clock,
            logger: logger.child({ job: 'auto-resolve' }),
            after: milliseconds(after),
            nudgeAfter: nudgeAfter === null ? null : milliseconds(nudgeAfter),
            sla,
            careTeamUsergroup: config.careTeamUsergroup,
            onChange: kickSync,
            // Every minute; more often when the wait itself is short (the sandbox's minutes).
            schedule: cronEvery(Math.min(60_000, Math.max(1000, after / 20))),
          });
    const peopleClient = new webApi.WebClient(config.slack.botToken, {
      slackApiUrl: config.slack.apiUrl,
      logger: boltLogger(logger),
      retryConfig: { retries: 2 },
      timeout: 10_000,
    });
    const people = new People(peopleClient, logger);
    const permissions = new Permissions(people, config);
    if (!config.careTeamUsergroup) {
      logger.warn(
        'care_team_usergroup is not set: every full member of the workspace (not guests, not other organisations, not escalation-team members) may claim cases and answer customers',
      );
    }
    const autoAssign =
      config.assignment.mode === 'round_robin'
        ? new AutoAssign({
            db: db.db,
            clock,
            logger: logger.child({ job: 'auto-assign' }),
            permissions,
            // The sync's client: no retries, a 429 rejected at once, so a round never waits on Slack.
            whereabouts: new SlackWhereabouts({
              client,
              directory: people,
              clock,
              logger: logger.child({ job: 'auto-assign' }),
              ttl: seconds(60),
              membersTtl: minutes(5),
            }),
            settings: { ...config.assignment, careTeamUsergroup: config.careTeamUsergroup },
            onChange: kickSync,
          })
        : undefined;
    const statsDigest = new StatsDigest({
      db: db.db,
      clock,
      logger: logger.child({ job: 'stats-digest' }),
      client: peopleClient,
      config,
    });
    const retention = new Retention({
      db: db.db,
      clock,
      logger: logger.child({ job: 'retention' }),
      customerText: config.retention.customerText,
      timezone: config.timezone,
      onChange: kickSync,
    });
    const crisisWatch = new CrisisWatch({
      db: db.db,
      clock,
      logger: logger.child({ job: 'crisis-watch' }),
      config,
      sla,
      onChange: kickSync,
      // New cases that mention an open incident's keywords join it.
      alsoEachRound: (now) =>
        autoLink(db.db, now, {
          lookbackMs: config.crisis.linkLookback,
          texts: incidentTexts,
          note: autoLinkedNote,
        }),
    });
    const record = async (message: InboundMessage) => {
      const stored = await recordInbound(db.db, clock, message, {
        reopenWithin: config.reopenWithin,
        sla,
        rules: config.escalation.rules,
      });
      if (!stored.duplicate) {
        metrics.inboundStored(message.platform);
        kickSync();
        // A P1 case is assigned at once, any other as soon as its wait is over.
        if (stored.opened) autoAssign?.caseOpened();
      }
      return stored;
    };
    const deps: SourceDeps = {
      db: db.db,
      clock,
      logger,
      record,
      recordChange: async (change) => {
        if (await recordCustomerChange(db.db, clock, change, customerChangeText)) kickSync();
      },
      onStored: kickSync,
      isStored: (sourceKey, externalId) => isInboundStored(db.db, sourceKey, externalId),
      conversationOf: (sourceKey, externalId) => conversationOfMessage(db.db, sourceKey, externalId),
      settingsOf: (part) => settingsOf(config, part),
    };
    // Each source module turns its own settings into routes, pollers and a reply adapter.
    const modules: readonly SourceModule[] = sources;
    metrics.expectPlatforms(modules.map((source) => source.platform));
    const parts = new Map<string, SourceParts>(
      modules.map((source) => [
        source.platform,
        source.create((config.sources as Record<string, unknown>)[source.platform], deps),
      ]),
    );
    const adapters = Object.fromEntries(
      [...parts].flatMap(([platform, part]) => (part.reply ? [[platform, part.reply]] : [])),
    );
    const deliver = new DeliverReplies({
      db: db.db,
      clock,
      logger: logger.child({ job: 'deliver-replies' }),
      adapterFor: (platform) => adapters[platform],
      agentName: (userId) => people.name(userId),
      metrics,
      onFeedback: kickSync,
    });
    const slack = await buildSlackApp(config, {
      db: db.db,
      clock,
      config,
      logger,
      kickSync,
      deliverAt: (at) => deliver.kickAt(at),
      people,
      permissions,
      tone: toneRules(config.tone),
      sla,
    });
    const pollers = new PollRunner({
      db: db.db,
      clock,
      logger: logger.child({ job: 'pollers' }),
      pollers: [...parts.values()].flatMap((part) => part.pollers ?? []),
      record,
      noticeChannel: config.careChannelId,
      onNotice: kickSync,
    });
    const routes: Routes = {
      'GET /healthz': healthHandler(db.db),
      'GET /metrics': metricsHandler(metrics, config.metricsToken),
    };
    for (const part of parts.values()) Object.assign(routes, part.routes);
    if (slack.httpReceiver) routes['POST /slack/events'] = slack.httpReceiver.requestListener;
    const server = createHttpServer(
      routes,
      logger,
      { maxConnections: config.maxConnections },
      (route, status, seconds) => metrics.requestServed(route, status, seconds),
    );
    const port = await listen(server, config.port, opts.host);
    if (slack.mode === 'socket') await slack.app.start();
    if (opts.schedule !== false) {
      sync.start();
      deliver.start();
      slaSweep.start();
      pollers.start();
      escalationSweep.start();
      autoResolve?.start();
      statsDigest.start();
      crisisWatch.start();
      retention.start();
      autoAssign?.start();
    }
    logger.info(
      {
        port,
        slack: slack.mode,
        pollers: pollers.size,
        ...Object.assign({}, ...[...parts.values()].map((part) => part.started)),
      },
      'carebot started',
    );
    let stopping: Promise<void> | undefined;
    if (opts.setupCheck)
      checkSetupInBackground(config, { database: db.db, clock, logger, quiet: () => stopping !== undefined });
    return {
      port,
      host: (server.address() as AddressInfo).address,
      db,
      sync,
      deliver,
      slaSweep,
      pollers,
      escalationSweep,
      autoResolve,
      crisisWatch,
      retention,
      autoAssign,
      slack,
      metrics,
      stop: () => {
        stopping ??= shutdown(
          server,
          slack,
          [
            ...(autoAssign ? [autoAssign] : []),
            statsDigest,
            retention,
            crisisWatch,
            pollers,
            escalationSweep,
            ...(autoResolve ? [autoResolve] : []),
            slaSweep,
            deliver,
            sync,
          ],
          opts.database ? undefined : db,
          logger,
          opts.shutdownGraceMs ?? SHUTDOWN_GRACE_MS,
        );
        return stopping;
      },
    };
  } catch (err) {
    if (!opts.database) await db.close().catch(() => {});
    throw err;
  }
}

async function shutdown(
  server: Server,
  slack: SlackApp,
  jobs: Array<{ stop(): Promise<void> }>,
  db: DatabaseHandle | undefined,
  logger: Logger,
  graceMs: number,
) {
  logger.info({ slackInFlight: slack.inFlight.size }, 'carebot stopping');
  // Stop taking new requests; those in flight finish.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Slack work already acknowledged (a click, a stored thread message) must reach the database;
  // anything new is refused unacknowledged, so Slack delivers it again. The Socket Mode connection
  // stays open meanwhile: a thread message is acknowledged over it once stored.
  slack.inFlight.closing = true;
  const drained = await slack.inFlight.idle(graceMs);
  if (!drained)
    logger.warn(
      { slackInFlight: slack.inFlight.size, graceMs },
      'Slack requests still running at the end of the shutdown grace period',
    );
  // Connections whose last answer went out while we waited would otherwise linger for keep-alive.
  server.closeIdleConnections();
  if (slack.mode === 'socket')
    await slack.app.stop().catch((err) => logger.warn({ err }, 'socket close failed'));
  // Deliveries first: a reply that goes out still gets its ✅ posted by the sync that follows.
  for (const job of jobs) await job.stop();
  await closed;
  await db?.close();
  logger.info('carebot stopped');
}

/**
 * The environment as carebot reads it: `.env` loaded where present, and an empty variable counts as
 * unset, here too: `SLACK_SIGNING_SECRET=` passed through by a compose file must not hide the value
 * in .env (loadEnvFile keeps variables that exist, empty or not).
 */
export function readEnvironment(): Record<string, string> {
  for (const [name, value] of Object.entries(process.env)) {
    if (value?.trim() === '') delete process.env[name];
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Read once, empty values dropped: `NAME=` left over from .env.example means unset.
  return setVariables(process.env);
}

/** Real mode: the configuration from `env`, carebot started, and stopped cleanly on SIGTERM or SIGINT. */
export async function runCarebot(env: Record<string, string>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(
    config.logLevel,
    undefined,
    chooseLogFormat(config.logFormat, process.stdout.isTTY),
  );
  let carebot: Carebot;
  try {
    carebot = await startCarebot({ config, logger, setupCheck: true });
  } catch (err) {
    logger.fatal({ err }, 'carebot could not start');
    process.exit(1);
  }
  keepRunningOnStrayRejections(logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      carebot.stop().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/**
 * The production entry (`node dist/main.js`): real mode only. The sandbox is a development tool
 * (`npm start`, `npm run sandbox`, see sandbox/start.ts) and is not part of dist/, so with nothing
 * configured this says how to configure carebot or where to find the sandbox, and exits.
 */
async function main(): Promise<void> {
  const env = readEnvironment();
  const start = decideStartMode(env, { sandboxAsked: process.argv.includes('--sandbox') });
  if (start.mode === 'incomplete') {
    process.stderr.write(`${incompleteMessage(start)}\n`);
    process.exit(1);
  }
  if (start.mode === 'sandbox') {
    process.stderr.write(`${noSandboxHereMessage(start)}\n`);
    process.exit(1);
  }
  await runCarebot(env);
}

/**
 * A promise rejected where nobody awaits it must not take every customer down with it: log it and
 * keep serving (work lives in the database). Seen before: a signed Slack request with a `null` body
 * inside Bolt (now refused earlier), and postgres.js's array-type lookup at a connection cut (now
 * turned off, see src/db/client.ts).
 */
export function keepRunningOnStrayRejections(logger: Logger): void {
  process.on('unhandledRejection', (err) => {
    logger.error({ err }, 'unhandled rejection; carebot keeps running');
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
