/**
 * carebot as its own process, for the reliability suite and the benchmarks: the same start as
 * `src/main.ts` (config from the environment, the real schedules unless CAREBOT_SCHEDULE=off), plus
 * an IPC channel to its parent that says when it is listening and can drive the sync by hand.
 * Logs go to stderr so the parent can keep them apart from nothing else.
 */
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { keepRunningOnStrayRejections, startCarebot } from '../../../src/main.js';

export type ParentMessage = { type: 'sync'; id: number } | { type: 'memory'; id: number } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; port: number; pid: number }
  | { type: 'synced'; id: number; leased: number }
  | { type: 'memory'; id: number; rss: number; heapUsed: number };

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel, process.stderr);
// As src/main.ts does.
keepRunningOnStrayRejections(logger);
const carebot = await startCarebot({
  config,
  logger,
  schedule: process.env.CAREBOT_SCHEDULE !== 'off',
});
// CAREBOT_SYNC=off: the Slack sync does not run at all, not even when a stored complaint kicks it
// (the ingest benchmark measures storing alone). `sync` messages below would then lease nothing.
if (process.env.CAREBOT_SYNC === 'off') await carebot.sync.stop();
const send = (message: ChildMessage) => process.send?.(message);

process.on('message', (message: ParentMessage) => {
  if (message.type === 'sync') {
    void (async () => {
      await carebot.sync.idle();
      let leased = 0;
      for (let n = await carebot.sync.runOnce(); n > 0; n = await carebot.sync.runOnce()) leased += n;
      send({ type: 'synced', id: message.id, leased });
    })();
  } else if (message.type === 'memory') {
    const usage = process.memoryUsage();
    send({ type: 'memory', id: message.id, rss: usage.rss, heapUsed: usage.heapUsed });
  } else if (message.type === 'stop') {
    void carebot.stop().then(() => process.exit(0));
  }
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void carebot.stop().then(() => process.exit(0)));
}
send({ type: 'ready', port: carebot.port, pid: process.pid });
