import { eventCallbackEnvelope, postSlackEvent, type SlackHttpResult } from './signing.js';
import type { FakeSlack } from './web-api.js';

let counter = 0;
/** A fresh Slack message ts, increasing within the run. */
export function nextTs(): string {
  counter += 1;
  return `1764000000.${String(counter).padStart(6, '0')}`;
}

export interface ThreadMessageOptions {
  channel: string;
  threadTs: string;
  user: string;
  text: string;
  ts?: string;
  eventId?: string;
  /** Imitates Slack redelivering the event (`x-slack-retry-num`). */
  retryNum?: number;
}

/** A person's reply in a thread, as the Events API delivers it. */
export async function postThreadMessage(
  baseUrl: string,
  secret: string,
  o: ThreadMessageOptions,
): Promise<SlackHttpResult & { ts: string }> {
  const ts = o.ts ?? nextTs();
  const event = {
    type: 'message',
    channel: o.channel,
    channel_type: 'channel',
    user: o.user,
    text: o.text,
    ts,
    thread_ts: o.threadTs,
    team: 'T0CAREBOT',
  };
  const headers =
    o.retryNum !== undefined
      ? { 'x-slack-retry-num': String(o.retryNum), 'x-slack-retry-reason': 'http_timeout' }
      : undefined;
  const res = await postSlackEvent(
    baseUrl,
    secret,
    eventCallbackEnvelope(event, o.eventId ? { eventId: o.eventId } : {}),
    headers,
  );
  return { ...res, ts };
}

/** The `message_changed` event Slack sends when a person edits a thread reply. */
export function postMessageEdit(
  baseUrl: string,
  secret: string,
  o: { channel: string; threadTs: string; user: string; ts: string; text: string; previousText: string },
) {
  return postSlackEvent(
    baseUrl,
    secret,
    eventCallbackEnvelope({
      type: 'message',
      subtype: 'message_changed',
      channel: o.channel,
      hidden: true,
      ts: nextTs(),
      message: {
        type: 'message',
        user: o.user,
        text: o.text,
        ts: o.ts,
        thread_ts: o.threadTs,
        edited: { user: o.user, ts: nextTs() },
      },
      previous_message: {
        type: 'message',
        user: o.user,
        text: o.previousText,
        ts: o.ts,
        thread_ts: o.threadTs,
      },
    }),
  );
}

/** The `message_deleted` event. */
export function postMessageDelete(
  baseUrl: string,
  secret: string,
  o: { channel: string; threadTs: string; ts: string },
) {
  return postSlackEvent(
    baseUrl,
    secret,
    eventCallbackEnvelope({
      type: 'message',
      subtype: 'message_deleted',
      channel: o.channel,
      hidden: true,
      ts: nextTs(),
      deleted_ts: o.ts,
      previous_message: { type: 'message', text: 'gone', ts: o.ts, thread_ts: o.threadTs },
    }),
  );
}

/** Ephemeral messages the fake received for a user, newest last. */
export function ephemeralsFor(slack: FakeSlack, user: string) {
  return slack.callsTo('chat.postEphemeral').filter((c) => c.ok && c.params.user === user);
}
