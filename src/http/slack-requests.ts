import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { type HTTPReceiver, verifySlackRequest } from '@slack/bolt';
import type { Logger } from '../logger.js';
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
 * `POST /slack/events` in front of Bolt's HTTPReceiver. A correctly signed request whose body Bolt
 * cannot take (JSON `null`, an `event` that is not an object, `actions` that are not objects, …)
 * made Bolt answer 500 or, for `null`, throw outside any handler and never answer. Such a request
 * gets a 400 naming the field here; everything else, unsigned requests included (Bolt answers
 * them 401), goes to Bolt as before, with the body already read (Bolt reuses `req.rawBody`).
 *
 * Clicks are acknowledged by their Bolt listeners (`ack()` first, work after), not here: an
 * acknowledgement queue in front of Bolt was measured to save no time a person sees (bench/ack.ts)
 * and hid its work from shutdown.
 */
export function slackRequestHandler(receiver: HTTPReceiver, signingSecret: string, logger: Logger) {
  const log = logger.child({ route: 'slack' });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
    const checked = checkSignedRequest(req, raw.toString(), signingSecret);
    if (checked.kind === 'future') {
      // Bolt refuses only stale timestamps; a future one would let a captured request be replayed later.
      log.warn('Slack request refused: its timestamp is more than 5 minutes in the future');
      sendJson(res, 401, { error: 'x-slack-request-timestamp is more than 5 minutes away from now' });
      return;
    }
    const problem = checked.kind === 'malformed' ? checked.problem : undefined;
    if (problem) {
      log.warn({ field: problem.path }, 'signed Slack request refused: malformed body');
      sendJson(res, 400, {
        error: `invalid body: ${problem.path}`,
        fields: [{ path: problem.path, message: problem.message }],
      });
      return;
    }
    receiver.requestListener(req, res);
  };
}

interface Problem {
  path: string;
  message: string;
}

type Checked =
  | { kind: 'unsigned' }
  | { kind: 'future' }
  | { kind: 'malformed'; problem: Problem }
  | { kind: 'signed'; body: unknown };

/** Verifies a Slack request and parses it as Bolt would, saying what Bolt could not take. */
function checkSignedRequest(req: IncomingMessage, raw: string, signingSecret: string): Checked {
  const header = (name: string) => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const form = req.headers['content-type'] === 'application/x-www-form-urlencoded';
  // Slack's SSL check is unsigned by design; Bolt answers it and drops anything smuggled along.
  if (form && parseQuery(raw).ssl_check === '1') return { kind: 'unsigned' };
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
  } catch {
    return { kind: 'unsigned' };
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
  const problem = shapeProblem(body);
  return problem ? { kind: 'malformed', problem } : { kind: 'signed', body };
}

/** The parts of a body Bolt reads without checking them (helpers.getTypeAndConversation, App). */
function shapeProblem(body: unknown): Problem | undefined {
  if (!isObject(body)) return { path: '(body)', message: 'expected a JSON object' };
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
