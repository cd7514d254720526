import { App, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { Config } from './config.js';
import { type ListenerContext, registerListeners } from './listeners/index.js';
import { boltLogger } from './logger.js';

export interface SlackApp {
  app: App;
  /** Set in HTTP mode: the request listener that serves `POST /slack/events` on carebot's server. */
  httpReceiver: HTTPReceiver | undefined;
  mode: 'socket' | 'http';
}

/**
 * Builds the Bolt app: Socket Mode when an app-level token is configured, else HTTP with signature
 * verification. Every Slack call, the Socket Mode connection included, goes to SLACK_API_URL.
 */
export async function buildSlackApp(config: Config, ctx: ListenerContext): Promise<SlackApp> {
  const logger = boltLogger(ctx.logger);
  const clientOptions = { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 2 } };
  let receiver: HTTPReceiver | SocketModeReceiver;
  let httpReceiver: HTTPReceiver | undefined;
  if (config.slack.appToken) {
    receiver = new SocketModeReceiver({
      appToken: config.slack.appToken,
      logger,
      installerOptions: { clientOptions },
    });
  } else {
    httpReceiver = new HTTPReceiver({
      signingSecret: config.slack.signingSecret as string,
      endpoints: '/slack/events',
      logger,
      // Acknowledge first, work after: listeners call ack() before they touch the database.
      processBeforeResponse: false,
    });
    receiver = httpReceiver;
  }
  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger,
    clientOptions,
    // Initialise explicitly below, so a bad token is a clear start-up error rather than an unhandled rejection.
    deferInitialization: true,
  });
  await app.init();
  registerListeners(app, ctx);
  app.error(async (err) => {
    ctx.logger.error({ err: err.original ?? err }, 'Slack listener failed');
  });
  return { app, httpReceiver, mode: config.slack.appToken ? 'socket' : 'http' };
}
