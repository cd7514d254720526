import {
  eventCallbackEnvelope,
  postSignedSlackRequest,
  type SlackHttpResult,
  slackTimestamp,
  triggerId,
} from './signing.js';
import { FAKE_APP_ID, FAKE_TEAM_ID } from './web-api.js';

export { slackTimestamp, triggerId };

/**
 * What the sandbox's Slack sends to carebot when a person clicks, submits, writes or types a command
 * on the sandbox page: block_actions, view submissions, message events and slash commands, shaped as
 * Slack sends them to an HTTP-mode app and signed by signing.ts, as the tests' requests are.
 */

const TEAM_DOMAIN = 'carebot-sandbox';
const VERIFICATION_TOKEN = 'sandboxVerificationToken00';

export interface SlackTarget {
  /** carebot's `POST /slack/events` URL. */
  eventsUrl: string;
  signingSecret: string;
}

export interface SandboxUser {
  id: string;
  name: string;
  realName: string;
}

/** carebot's answer: the HTTP status and body. */
export type SlackAnswer = SlackHttpResult;

function postSigned(target: SlackTarget, body: string, contentType: string): Promise<SlackAnswer> {
  return postSignedSlackRequest(target.eventsUrl, { secret: target.signingSecret, body, contentType });
}

const userRef = (user: SandboxUser) => ({
  id: user.id,
  username: user.name,
  name: user.name,
  team_id: FAKE_TEAM_ID,
});

export interface ClickedElement {
  type: string;
  action_id: string;
  block_id: string;
  value?: string;
  selected_option?: unknown;
  text?: unknown;
}

/** A click on a message element (button, select) or on an element inside an open modal. */
export function sendBlockAction(
  target: SlackTarget,
  o: {
    user: SandboxUser;
    element: ClickedElement;
    triggerId: string;
    responseUrl: string;
    channelId: string;
    message?: { ts: string; threadTs?: string; text: string; blocks: unknown[]; isEphemeral: boolean };
    view?: Record<string, unknown>;
  },
): Promise<SlackAnswer> {
  const action = { ...o.element, action_ts: slackTimestamp() };
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: userRef(o.user),
    api_app_id: FAKE_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: o.triggerId,
    team: { id: FAKE_TEAM_ID, domain: TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [action],
  };
  if (o.view) {
    payload.container = { type: 'view', view_id: o.view.id };
    payload.view = o.view;
  } else if (o.message) {
    payload.container = {
      type: 'message',
      message_ts: o.message.ts,
      channel_id: o.channelId,
      is_ephemeral: o.message.isEphemeral,
    };
    payload.channel = { id: o.channelId, name: 'care' };
    payload.message = {
      type: 'message',
      ts: o.message.ts,
      // Slack says which thread a clicked message is in; carebot checks ids against it.
      ...(o.message.threadTs ? { thread_ts: o.message.threadTs } : {}),
      text: o.message.text,
      blocks: o.message.blocks,
    };
    payload.response_url = o.responseUrl;
  }
  return postSigned(
    target,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    'application/x-www-form-urlencoded',
  );
}

export function sendViewSubmission(
  target: SlackTarget,
  o: { user: SandboxUser; view: Record<string, unknown>; values: Record<string, Record<string, unknown>> },
): Promise<SlackAnswer> {
  const payload = {
    type: 'view_submission',
    team: { id: FAKE_TEAM_ID, domain: TEAM_DOMAIN },
    user: userRef(o.user),
    api_app_id: FAKE_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: triggerId(),
    view: { ...o.view, state: { values: o.values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return postSigned(
    target,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    'application/x-www-form-urlencoded',
  );
}

/** A person's message in the channel or a thread, as the Events API delivers it. */
export function sendMessageEvent(
  target: SlackTarget,
  o: { user: SandboxUser; channelId: string; ts: string; text: string; threadTs?: string },
): Promise<SlackAnswer> {
  const event: Record<string, unknown> = {
    type: 'message',
    channel: o.channelId,
    channel_type: 'channel',
    user: o.user.id,
    text: o.text,
    ts: o.ts,
    team: FAKE_TEAM_ID,
    event_ts: o.ts,
  };
  if (o.threadTs) event.thread_ts = o.threadTs;
  return postSigned(target, JSON.stringify(eventCallbackEnvelope(event)), 'application/json');
}

/** The user opened carebot's App Home tab. */
export function sendAppHomeOpened(target: SlackTarget, user: SandboxUser): Promise<SlackAnswer> {
  const event = { type: 'app_home_opened', user: user.id, channel: 'D0SANDBOX', tab: 'home' };
  return postSigned(target, JSON.stringify(eventCallbackEnvelope(event)), 'application/json');
}

export function sendSlashCommand(
  target: SlackTarget,
  o: {
    user: SandboxUser;
    channelId: string;
    command: string;
    text: string;
    responseUrl: string;
    triggerId: string;
  },
): Promise<SlackAnswer> {
  const form = new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: FAKE_TEAM_ID,
    team_domain: TEAM_DOMAIN,
    channel_id: o.channelId,
    channel_name: 'care',
    user_id: o.user.id,
    user_name: o.user.name,
    command: o.command,
    text: o.text,
    api_app_id: FAKE_APP_ID,
    is_enterprise_install: 'false',
    response_url: o.responseUrl,
    trigger_id: o.triggerId,
  });
  return postSigned(target, form.toString(), 'application/x-www-form-urlencoded');
}
