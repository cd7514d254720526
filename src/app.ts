import { App, type AppOptions, type ReceiverEvent, SocketModeReceiver } from '@slack/bolt';
import type { Config } from './config.js';
import { isObject } from './http/json.js';
import { SlackHttpReceiver } from './http/slack-receiver.js';
import { type CarebotContext, type ListenerContext, registerListeners } from './listeners/index.js';
import { boltLogger, type Logger } from './logger.js';
import { InFlight } from './slack/in-flight.js';

export interface SlackApp {
  app: CarebotApp;
  /** Set in HTTP mode: the receiver whose request listener serves `POST /slack/events` on carebot's server. */
  httpReceiver: SlackHttpReceiver | undefined;
  mode: 'socket' | 'http';
  /** The Slack requests being handled; shutdown waits for them. */
  inFlight: InFlight;
}

/** What a person is told when their click, command or form failed after Slack had its ack. */
export const DID_NOT_HAPPEN =
  'Sorry, carebot could not do that just now (a temporary problem on our side), so it did not happen. Please try again in a moment.';

/** What the author of a thread message is told when it could not be stored after Slack's last retry. */
export const MESSAGE_NOT_SAVED =
  'Sorry, carebot could not save your message just now (a temporary problem on our side): it was neither sent nor kept as a note. Please post it again in a moment.';

/** Slack redelivers an unacknowledged event up to three times. */
const SLACK_LAST_RETRY = 3;

/**
 * The Bolt app, with carebot's rules for every request either receiver hands it (HTTP and Socket
 * Mode alike): each is counted in `inFlight` until its listeners, notices included, are done; a
 * thread message is acknowledged only once it is stored (Bolt would acknowledge every event
 * before its listener runs); while shutting down, new requests are refused unacknowledged, so
 * Slack delivers events again later (to this instance after a restart, or to another).
 */
export class CarebotApp extends App<CarebotContext> {
  readonly inFlight = new InFlight();
  /** The requests whose listener called ack(): a failure after it can only be told by us. */
  readonly acked = new WeakSet<object>();

  constructor(
    options: AppOptions,
    private readonly log: Logger,
  ) {
    super(options);
  }

  override async processEvent(event: ReceiverEvent): Promise<void> {
    if (this.inFlight.closing) throw new Error('carebot is shutting down; Slack will deliver this again');
    const end = this.inFlight.begin();
    try {
      if (!storedBeforeAck(event.body)) {
        await super.processEvent({
          ...event,
          ack: async (response?: unknown) => {
            this.acked.add(event.body);
            await event.ack(response);
          },
        });
        return;
      }
      // Bolt calls ack() at once for events; that one does nothing, the real one follows the work.
      // A failed listener rethrows (app.error below), so this one is never acknowledged.
      await super.processEvent({ ...event, ack: async () => {} });
      await event.ack().catch((err: unknown) => {
        // Past Slack's 3 s the receiver has answered already; the redelivery finds the message stored.
        this.log.warn({ err }, 'thread message stored, but its acknowledgement could not be sent');
      });
    } finally {
      end();
    }
  }
}

/**
 * Builds the Bolt app: Socket Mode when an app-level token is configured, else HTTP with signature
 * verification. Every Slack call, the Socket Mode connection included, goes to SLACK_API_URL.
 */
export async function buildSlackApp(config: Config, ctx: ListenerContext): Promise<SlackApp> {
  const logger = boltLogger(ctx.logger);
  const clientOptions = { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 2 } };
  const httpReceiver = config.slack.appToken
    ? undefined
    : new SlackHttpReceiver({ signingSecret: config.slack.signingSecret as string, logger: ctx.logger });
  const receiver =
    httpReceiver ??
    new SocketModeReceiver({
      appToken: config.slack.appToken as string,
      logger,
      installerOptions: { clientOptions },
    });
  const app = new CarebotApp(
    {
      token: config.slack.botToken,
      receiver,
      logger,
      clientOptions,
      // Initialise explicitly below, so a bad token is a clear start-up error rather than an unhandled rejection.
      deferInitialization: true,
      extendedErrorHandler: true,
    },
    ctx.logger,
  );
  await app.init();
  registerListeners(app, ctx);
  app.error(
    async ({ error, body, context }: { error: Error; body: object; context: { retryNum?: number } }) => {
      const err = ('original' in error ? error.original : undefined) ?? error;
      ctx.logger.error({ err, type: describe(body) }, 'Slack listener failed');
      if (storedBeforeAck(body)) {
        // Not acknowledged: Slack delivers it again (a redelivery is recognised by its ts). After
        // Slack's last try, the author hears that it was lost.
        if ((context.retryNum ?? 0) >= SLACK_LAST_RETRY) await tellAuthor(app, ctx.logger, body);
        throw error;
      }
      // Before its ack, Slack shows the person the failure itself; after it, only we can.
      if (app.acked.has(body)) await tellFailed(app, ctx.logger, body);
    },
  );
  return { app, httpReceiver, mode: config.slack.appToken ? 'socket' : 'http', inFlight: app.inFlight };
}

/** Message events (thread replies, their edits and deletions) are acknowledged after they are handled. */
function storedBeforeAck(body: unknown): boolean {
  return isObject(body) && isObject(body.event) && body.event.type === 'message';
}

function describe(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  if (isObject(body.event) && typeof body.event.type === 'string') return `event:${body.event.type}`;
  if (typeof body.command === 'string') return `command:${body.command}`;
  return typeof body.type === 'string' ? body.type : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Tells the person whose click, command or form failed after its ack that nothing happened:
 * ephemerally in the channel it came from, else through its response_url, else in carebot's DM.
 */
async function tellFailed(app: App, logger: Logger, body: unknown): Promise<void> {
  if (!isObject(body)) return;
  const user = str(isObject(body.user) ? body.user.id : undefined) ?? str(body.user_id);
  const channel = str(isObject(body.channel) ? body.channel.id : undefined) ?? str(body.channel_id);
  const responseUrls = Array.isArray(body.response_urls) ? body.response_urls : [];
  const responseUrl =
    str(body.response_url) ??
    str(isObject(responseUrls[0]) ? (responseUrls[0] as Record<string, unknown>).response_url : undefined);
  try {
    if (user && channel) {
      await app.client.chat.postEphemeral({ channel, user, text: DID_NOT_HAPPEN });
    } else if (responseUrl) {
      const res = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: DID_NOT_HAPPEN }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`response_url answered ${res.status}`);
    } else if (user) {
      await app.client.chat.postMessage({ channel: user, text: DID_NOT_HAPPEN });
    }
  } catch (err) {
    logger.warn({ err, type: describe(body) }, 'could not tell the person that their action failed');
  }
}

/** Tells the author of a thread message that could not be stored, ephemerally in its thread. */
async function tellAuthor(app: App, logger: Logger, body: unknown): Promise<void> {
  const event = isObject(body) && isObject(body.event) ? body.event : undefined;
  const user = str(event?.user);
  const channel = str(event?.channel);
  if (!event || !user || !channel || event.subtype !== undefined) return;
  try {
    await app.client.chat.postEphemeral({
      channel,
      user,
      text: MESSAGE_NOT_SAVED,
      ...(str(event.thread_ts) ? { thread_ts: event.thread_ts as string } : {}),
    });
  } catch (err) {
    logger.warn({ err }, 'could not tell the author that their message was not saved');
  }
}
