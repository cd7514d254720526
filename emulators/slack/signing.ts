import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { FAKE_APP_ID, FAKE_BOT_ID, FAKE_BOT_USER_ID, FAKE_TEAM_ID } from './web-api.js';

/** Slack still sends the deprecated verification token in payloads; Bolt ignores it when signing is on. */
const FAKE_VERIFICATION_TOKEN = 'fakeVerificationToken0000';
const FAKE_TEAM_DOMAIN = 'carebot-test';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
  [header: string]: string;
}

export interface SlackHttpResult {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

/**
 * Signs a request body the way Slack does (v0): HMAC-SHA256 over `v0:<timestamp>:<raw body>` keyed
 * with the app's signing secret. The timestamp defaults to now, which is what receivers accept.
 */
export function signSlackRequest(
  secret: string,
  rawBody: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', secret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex');
  return {
    'x-slack-signature': `v0=${digest}`,
    'x-slack-request-timestamp': String(timestampSeconds),
  };
}

export interface SignedRequest {
  secret: string;
  body: string;
  contentType: string;
  /** Override to test stale or future timestamps. */
  timestampSeconds?: number;
  extraHeaders?: Record<string, string>;
}

/** Low-level: POST an already-serialised body with Slack's signature headers. */
export async function postSignedSlackRequest(url: string, request: SignedRequest): Promise<SlackHttpResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': request.contentType,
      ...signSlackRequest(request.secret, request.body, request.timestampSeconds),
      ...request.extraHeaders,
    },
    body: request.body,
  });
  const body = await response.text();
  return { status: response.status, body, ...parseJson(body) };
}

/** Interactivity (block_actions, view_submission, …): Slack posts a form with one `payload` field. */
export function postSlackInteraction(
  baseUrl: string,
  secret: string,
  payload: unknown,
): Promise<SlackHttpResult> {
  return postSignedSlackRequest(eventsUrl(baseUrl), {
    secret,
    body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    contentType: 'application/x-www-form-urlencoded',
  });
}

/**
 * Events API: Slack posts the envelope as JSON. Pass retry headers (`x-slack-retry-num`,
 * `x-slack-retry-reason`) in extraHeaders to imitate a redelivery.
 */
export function postSlackEvent(
  baseUrl: string,
  secret: string,
  eventCallback: unknown,
  extraHeaders?: Record<string, string>,
): Promise<SlackHttpResult> {
  return postSignedSlackRequest(eventsUrl(baseUrl), {
    secret,
    body: JSON.stringify(eventCallback),
    contentType: 'application/json',
    ...(extraHeaders ? { extraHeaders } : {}),
  });
}

/**
 * Slash commands arrive as a flat form. Fields not given get realistic defaults (team, channel, user,
 * response_url, trigger_id), because Bolt needs them to build its context; given fields win.
 */
export function postSlashCommand(
  baseUrl: string,
  secret: string,
  fields: Record<string, string>,
): Promise<SlackHttpResult> {
  const form = new URLSearchParams({ ...slashCommandDefaults(), ...fields });
  return postSignedSlackRequest(eventsUrl(baseUrl), {
    secret,
    body: form.toString(),
    contentType: 'application/x-www-form-urlencoded',
  });
}

export function slashCommandDefaults(): Record<string, string> {
  return {
    token: FAKE_VERIFICATION_TOKEN,
    team_id: FAKE_TEAM_ID,
    team_domain: FAKE_TEAM_DOMAIN,
    channel_id: 'C0CARE0001',
    channel_name: 'care',
    user_id: 'U0AGENT001',
    user_name: 'agent',
    command: '/care',
    text: '',
    api_app_id: FAKE_APP_ID,
    is_enterprise_install: 'false',
    response_url: `https://hooks.slack.com/commands/${FAKE_TEAM_ID}/${digits(13)}/${randomToken(24)}`,
    trigger_id: triggerId(),
  };
}

export interface BlockActionOptions {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  messageTs: string;
  /** The thread the clicked message is in, when it is a reply in a thread (Slack sends it then). */
  threadTs?: string;
  triggerId?: string;
  blockId?: string;
  userName?: string;
  channelName?: string;
  messageText?: string;
  /** Point this at `fake.responseUrl()` when the code under test calls respond(). */
  responseUrl?: string;
  teamId?: string;
  /** An overflow menu's item picked (Slack sends `selected_option` and no `value` then). */
  overflowOption?: { text: string; value: string };
}

/** A button click (or an overflow menu pick) on a message, shaped like the block_actions payloads Slack sends. */
export function blockActionPayload(options: BlockActionOptions): Record<string, unknown> {
  const teamId = options.teamId ?? FAKE_TEAM_ID;
  const userName = options.userName ?? options.userId.toLowerCase();
  const buttonText = { type: 'plain_text', text: options.actionId, emoji: true };
  return {
    type: 'block_actions',
    user: { id: options.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: FAKE_APP_ID,
    token: FAKE_VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: options.messageTs,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
      channel_id: options.channelId,
      is_ephemeral: false,
    },
    trigger_id: options.triggerId ?? triggerId(),
    team: { id: teamId, domain: FAKE_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: options.channelId, name: options.channelName ?? 'care' },
    message: {
      type: 'message',
      ts: options.messageTs,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
      text: options.messageText ?? '',
      blocks: [],
    },
    // Slack includes the state of stateful elements on the surface; a message of buttons has none.
    state: { values: {} },
    response_url:
      options.responseUrl ?? `https://hooks.slack.com/actions/${teamId}/${digits(13)}/${randomToken(24)}`,
    actions: [
      options.overflowOption
        ? {
            action_id: options.actionId,
            block_id: options.blockId ?? randomToken(5),
            selected_option: {
              text: { type: 'plain_text', text: options.overflowOption.text, emoji: true },
              value: options.overflowOption.value,
            },
            type: 'overflow',
            action_ts: slackTimestamp(),
          }
        : {
            action_id: options.actionId,
            block_id: options.blockId ?? randomToken(5),
            text: buttonText,
            value: options.value,
            type: 'button',
            action_ts: slackTimestamp(),
          },
    ],
  };
}

/** One element's state as Slack reports it, e.g. `{ type: 'plain_text_input', value: 'hi' }`. */
export interface ViewStateValue {
  type: string;
  [field: string]: unknown;
}

export interface ViewSubmissionOptions {
  callbackId: string;
  userId: string;
  privateMetadata?: string;
  /**
   * `view.state.values`: block_id → action_id → element state. A plain string is shorthand for a
   * plain_text_input holding that value.
   */
  values: Record<string, Record<string, ViewStateValue | string>>;
  viewId?: string;
  userName?: string;
  teamId?: string;
  triggerId?: string;
}

/** A modal being submitted, shaped like the view_submission payloads Slack sends. */
export function viewSubmissionPayload(options: ViewSubmissionOptions): Record<string, unknown> {
  const teamId = options.teamId ?? FAKE_TEAM_ID;
  const userName = options.userName ?? options.userId.toLowerCase();
  const viewId = options.viewId ?? `V${digits(10)}`;
  const values: Record<string, Record<string, ViewStateValue>> = {};
  for (const [blockId, actions] of Object.entries(options.values)) {
    const blockState: Record<string, ViewStateValue> = {};
    for (const [actionId, state] of Object.entries(actions)) {
      blockState[actionId] = typeof state === 'string' ? { type: 'plain_text_input', value: state } : state;
    }
    values[blockId] = blockState;
  }
  const plainText = (text: string) => ({ type: 'plain_text', text, emoji: true });
  return {
    type: 'view_submission',
    team: { id: teamId, domain: FAKE_TEAM_DOMAIN },
    user: { id: options.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: FAKE_APP_ID,
    token: FAKE_VERIFICATION_TOKEN,
    trigger_id: options.triggerId ?? triggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: [],
      private_metadata: options.privateMetadata ?? '',
      callback_id: options.callbackId,
      state: { values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomToken(8)}`,
      title: plainText('Carebot'),
      clear_on_close: false,
      notify_on_close: false,
      close: plainText('Cancel'),
      submit: plainText('Submit'),
      previous_view_id: null,
      root_view_id: viewId,
      app_id: FAKE_APP_ID,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: FAKE_BOT_ID,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export interface EventCallbackOptions {
  teamId?: string;
  /** The bot user the installation belongs to; appears in `authorizations`. */
  botUserId?: string;
  eventId?: string;
}

/** Wraps an event (message, app_mention, …) in the `event_callback` envelope of the Events API. */
export function eventCallbackEnvelope(
  event: Record<string, unknown>,
  options: EventCallbackOptions = {},
): Record<string, unknown> {
  const teamId = options.teamId ?? FAKE_TEAM_ID;
  const eventTs = typeof event.event_ts === 'string' ? event.event_ts : slackTimestamp();
  return {
    token: FAKE_VERIFICATION_TOKEN,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: FAKE_APP_ID,
    event: { ...event, event_ts: eventTs },
    type: 'event_callback',
    event_id: options.eventId ?? `Ev${randomToken(9).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: options.botUserId ?? FAKE_BOT_USER_ID,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomToken(40)}`,
  };
}

function eventsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/slack/events`;
}

function parseJson(body: string): { json?: unknown } {
  if (body.trim() === '') return {};
  try {
    return { json: JSON.parse(body) as unknown };
  } catch {
    return {};
  }
}

/** "<unix seconds>.<6 digits>", the format of message ts, action_ts and event_ts. */
export function slackTimestamp(): string {
  return `${Math.floor(Date.now() / 1000)}.${digits(6)}`;
}

/** Slack trigger ids look like "1388105719492.1379717998065.9bc163894734c1f415a2c504e81dec91". */
export function triggerId(): string {
  return `${digits(13)}.${digits(13)}.${randomBytes(16).toString('hex')}`;
}

function digits(count: number): string {
  let out = '';
  for (let i = 0; i < count; i += 1) out += String(randomInt(10));
  return out;
}

function randomToken(length: number): string {
  return randomBytes(length).toString('base64url').replace(/[-_]/g, 'x').slice(0, length);
}
