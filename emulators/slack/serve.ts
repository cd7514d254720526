/**
 * The fake Slack Web API as a process of its own, for checks that run carebot as a separate program
 * (`.ci/run` starts dist/main.js against it): prints `SLACK_API_URL=<url>` and serves until SIGTERM.
 */
import { startFakeSlack } from './web-api.js';

const slack = await startFakeSlack();
process.stdout.write(`SLACK_API_URL=${slack.url}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void slack.close().then(() => process.exit(0));
  });
}
