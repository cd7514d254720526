import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import {
  type App,
  HTTPModuleFunctions,
  HTTPResponseAck,
  type Receiver,
  type ReceiverEvent,
  verifySlackRequest,
} from '@slack/bolt';
import { boltLogger, type Logger } from '../logger.js';
import { BodyTooLarge, readRawBody, refuseTooLarge, sendJson } from './body.js';
import { isObject } from './json.js';
import { NOT_WELL_FORMED, wellFormedBody } from './well-formed.js';

/**
 * The largest Slack request carebot reads (1 MiB). Slack's own payloads are far smaller (a modal
 * submission with every field filled is tens of KiB); Bolt would take 4 MiB.
 */
export const MAX_SLACK_BODY = 1024 * 1024;

/** How far a request's timestamp may be from now, in the past or the future (Slack's 5 minutes). */
export const SLACK_TIMESTAMP_TOLERANCE_S = 5 * 60;

/**
 * `POST /slack/events` in HTTP mode: a Bolt receiver (bolt-js examples/custom-receiver) served by
 * carebot's own HTTP server, so it has no port of its own to start or stop. It does what Bolt's
 * HTTPReceiver does, with Bolt's own pieces (signature check, url_verification, ssl_check, retry
 * headers, `HTTPResponseAck`, the default error answer), and adds what Bolt lacks:
 * - a 1 MiB body limit, answered 413 without reading the rest;
 * - a timestamp more than 5 minutes in the future is refused like a stale one (Bolt refuses only
 *   stale ones, so a captured request could be replayed later);
 * - a signed body Bolt cannot take (JSON `null`, an `event` that is not an object, `actions` that
 *   are not objects, a lone surrogate, …) gets a 400 naming the field; Bolt answered 500 or, for
 *   `null`, threw outside any handler and never answered.
 *
 * Clicks are acknowledged by their listeners (`ack()` first, work after); when a thread message is
 * acknowledged, and which requests are refused while shutting down, is the app's (app.ts).
 */
export class SlackHttpReceiver implements Receiver {
  private app: App | undefined;
  private readonly log: Logger;
  private readonly boltLog: ReturnType<typeof boltLogger>;

  constructor(private readonly options: { signingSecret: string; logger: Logger }) {
    this.log = options.logger.child({ route: 'slack' });
    this.boltLog = boltLogger(options.logger);
  }

  init(app: App): void {
    this.app = app;
  }

  /** carebot's HTTP server (http/server.ts) listens; this receiver only answers its route. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** The route handler for `POST /slack/events`. */
  readonly requestListener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let raw: Buffer;
    try {
      raw = await readRawBody(req, MAX_SLACK_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        refuseTooLarge(req, res, MAX_SLACK_BODY);
        return;
      }
      throw err;
    }
    const checked = checkSignedRequest(req, raw.toString(), this.options.signingSecret);
    switch (checked.kind) {
      case 'ssl_check':
        HTTPModuleFunctions.buildSSLCheckResponse(res);
        return;
      case 'future':
        this.log.warn('Slack request refused: its timestamp is more than 5 minutes in the future');
        sendJson(res, 401, { error: 'x-slack-request-timestamp is more than 5 minutes away from now' });
        return;
      case 'unsigned':
        this.boltLog.warn(`Failed to parse and verify the request data: ${checked.reason}`);
        HTTPModuleFunctions.buildNoBodyResponse(res, 401);
        return;
      case 'malformed':
        this.log.warn({ field: checked.problem.path }, 'signed Slack request refused: malformed body');
        sendJson(res, 400, {
          error: `invalid body: ${checked.problem.path}`,
          fields: [{ path: checked.problem.path, message: checked.problem.message }],
        });
        return;
      case 'signed':
        await this.dispatch(req, res, checked.body);
    }
  };

  /** As Bolt's HTTPReceiver: answers url_verification, else hands the event to the app with an ack. */
  private async dispatch(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
    if (body.type === 'url_verification') {
      HTTPModuleFunctions.buildUrlVerificationResponse(res, body);
      return;
    }
    const ack = new HTTPResponseAck({
      logger: this.boltLog,
      processBeforeResponse: false,
      httpRequest: req,
      httpRequestBody: body,
      httpResponse: res,
    });
    const event: ReceiverEvent = {
      body,
      ack: ack.bind(),
      retryNum: HTTPModuleFunctions.extractRetryNumFromHTTPRequest(req),
      retryReason: HTTPModuleFunctions.extractRetryReasonFromHTTPRequest(req),
      customProperties: {},
    };
    if (!this.app) throw new Error('the Slack receiver has no app: App() calls init() with it');
    try {
      await this.app.processEvent(event);
    } catch (error) {
      const acknowledged = await HTTPModuleFunctions.defaultProcessEventErrorHandler({
        error: error instanceof Error ? error : new Error(String(error)),
        logger: this.boltLog,
        request: req,
        response: res,
        storedResponse: ack.storedResponse,
      });
      if (acknowledged) ack.ack();
    }
  }
}

interface Problem {
  path: string;
  message: string;
}

type Checked =
  | { kind: 'ssl_check' }
  | { kind: 'unsigned'; reason: string }
  | { kind: 'future' }
  | { kind: 'malformed'; problem: Problem }
  | { kind: 'signed'; body: Record<string, unknown> };

/** Verifies a Slack request and parses it as Bolt does, saying what Bolt could not take. */
function checkSignedRequest(req: IncomingMessage, raw: string, signingSecret: string): Checked {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const form = req.headers['content-type'] === 'application/x-www-form-urlencoded';
  // Slack's SSL check is unsigned by design; it is answered, and anything smuggled along dropped.
  if (form && parseQuery(raw).ssl_check === '1') return { kind: 'ssl_check' };
  const timestamp = Number(header('x-slack-request-timestamp'));
  // Refused whatever the signature says: Bolt, which gets every request not refused here, would take it.
  if (timestamp > Math.floor(Date.now() / 1000) + SLACK_TIMESTAMP_TOLERANCE_S) return { kind: 'future' };
  try {
    verifySlackRequest({
      signingSecret,
      body: raw,
      headers: {
        'x-slack-signature': header('x-slack-signature') ?? '',
        'x-slack-request-timestamp': timestamp,
      },
    });
  } catch (err) {
    return { kind: 'unsigned', reason: err instanceof Error ? err.message : String(err) };
  }
  // Parsed as Bolt parses it: a form (with the interaction as JSON in `payload`), or JSON.
  let body: unknown;
  try {
    if (form) {
      const fields = parseQuery(raw);
      body = typeof fields.payload === 'string' ? JSON.parse(fields.payload) : fields;
    } else {
      body = JSON.parse(raw);
    }
  } catch {
    return { kind: 'malformed', problem: { path: form ? 'payload' : '(body)', message: 'not valid JSON' } };
  }
  // Slack never sends a lone surrogate; one could not be stored.
  const wellFormed = wellFormedBody(body, new Set());
  if (!wellFormed.ok)
    return { kind: 'malformed', problem: { path: wellFormed.path, message: NOT_WELL_FORMED } };
  if (!isObject(body))
    return { kind: 'malformed', problem: { path: '(body)', message: 'expected a JSON object' } };
  const problem = shapeProblem(body);
  return problem ? { kind: 'malformed', problem } : { kind: 'signed', body };
}

/** The parts of a body Bolt reads without checking them (helpers.getTypeAndConversation, App). */
function shapeProblem(body: Record<string, unknown>): Problem | undefined {
  const expectObject = (value: unknown, path: string): Problem | undefined =>
    isObject(value) ? undefined : { path, message: 'expected an object' };
  if (body.event !== undefined || body.type === 'event_callback') {
    const event = body.event;
    if (!isObject(event)) return { path: 'event', message: 'expected an object' };
    if (typeof event.type !== 'string') return { path: 'event.type', message: 'expected a string' };
    if ('channel' in event && event.channel === null)
      return { path: 'event.channel', message: 'must not be null' };
    if ('item' in event) return expectObject(event.item, 'event.item');
    return undefined;
  }
  if (body.command !== undefined) {
    return typeof body.command === 'string' ? undefined : { path: 'command', message: 'expected a string' };
  }
  // Read as `body.channel.id` once present; Slack sends an object (or leaves it out).
  for (const key of ['channel', 'user', 'container', 'message']) {
    if (body[key] === null) return { path: key, message: 'must not be null' };
  }
  if (body.actions !== undefined || body.type === 'block_actions' || body.type === 'interactive_message') {
    const actions = body.actions;
    if (!Array.isArray(actions) || actions.length === 0)
      return { path: 'actions', message: 'expected a non-empty array' };
    const bad = actions.findIndex((a) => !isObject(a));
    if (bad >= 0) return { path: `actions.${bad}`, message: 'expected an object' };
  }
  if (body.view !== undefined || body.type === 'view_submission' || body.type === 'view_closed') {
    return expectObject(body.view, 'view');
  }
  return undefined;
}
