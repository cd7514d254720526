import type { AddressInfo } from 'node:net';
import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import { ErrorCode, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  blockActionPayload,
  eventCallbackEnvelope,
  postSlackEvent,
  postSlackInteraction,
  postSlashCommand,
  signSlackRequest,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';

const BOT_TOKEN = 'xoxb-fake-token';

/** Rejections from WebClient carry `code` and per-kind fields; this narrows without `any`. */
async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the call to be rejected');
}

describe('fake Slack Web API with the real WebClient', () => {
  let fake: FakeSlack;
  let client: WebClient;

  beforeAll(async () => {
    fake = await startFakeSlack();
    client = new WebClient(BOT_TOKEN, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('answers auth.test with the bot identity', async () => {
    const result = await client.auth.test();
    expect(result).toMatchObject({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0CAREBOT' });
  });

  it('records postMessage with blocks parsed and the token kept out of params', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*New complaint*' } }];
    const first = await client.chat.postMessage({ channel: 'C0CARE', text: 'New complaint', blocks });
    const second = await client.chat.postMessage({ channel: 'C0CARE', text: 'reply', thread_ts: first.ts });

    const [firstCall, secondCall] = await fake.waitFor('chat.postMessage', 2);
    expect(firstCall?.params.blocks).toEqual(blocks);
    expect(Array.isArray(firstCall?.params.blocks)).toBe(true);
    expect(firstCall?.token).toBe(BOT_TOKEN);
    expect(firstCall?.params).not.toHaveProperty('token');
    expect(secondCall?.params.thread_ts).toBe(first.ts);

    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(first.message).toMatchObject({ text: 'New complaint', user: 'UBOT', bot_id: 'BBOT', blocks });
    expect(second.message?.thread_ts).toBe(first.ts);
    expect(firstCall?.response?.ts).toBe(first.ts);
  });

  it('lists a thread with conversations.replies: parent first, oldest/limit/cursor, metadata on request', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0CARE', text: 'card' });
    await client.chat.postMessage({ channel: 'C0CARE', text: 'elsewhere' });
    const posted: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const r = await client.chat.postMessage({
        channel: 'C0CARE',
        text: `reply ${i}`,
        thread_ts: parent.ts as string,
        metadata: { event_type: 'test_event', event_payload: { n: i } },
      });
      posted.push(r.ts as string);
    }
    const all = await client.conversations.replies({ channel: 'C0CARE', ts: parent.ts as string });
    expect(all.messages?.map((m) => m.text)).toEqual(['card', 'reply 1', 'reply 2', 'reply 3']);
    expect(all.messages?.[0]).toMatchObject({ ts: parent.ts, thread_ts: parent.ts, reply_count: 3 });
    expect(all.messages?.[1]).not.toHaveProperty('metadata');
    // Asked by a reply's ts, the whole thread comes back.
    const byReply = await client.conversations.replies({ channel: 'C0CARE', ts: posted[1] as string });
    expect(byReply.messages).toHaveLength(4);
    const newer = await client.conversations.replies({
      channel: 'C0CARE',
      ts: parent.ts as string,
      oldest: posted[0] as string,
      include_all_metadata: true,
    });
    expect(newer.messages?.map((m) => m.text)).toEqual(['reply 2', 'reply 3']);
    expect(newer.messages?.[0]?.metadata).toEqual({ event_type: 'test_event', event_payload: { n: 2 } });
    const first = await client.conversations.replies({
      channel: 'C0CARE',
      ts: parent.ts as string,
      limit: 3,
    });
    expect(first.messages).toHaveLength(3);
    expect(first.has_more).toBe(true);
    const next = await client.conversations.replies({
      channel: 'C0CARE',
      ts: parent.ts as string,
      limit: 3,
      cursor: first.response_metadata?.next_cursor as string,
    });
    expect(next.messages?.map((m) => m.text)).toEqual(['reply 3']);
    expect(next.has_more).toBe(false);
    const missing = await rejectionOf(client.conversations.replies({ channel: 'C0CARE', ts: '1.000001' }));
    expect(missing.data).toMatchObject({ ok: false, error: 'thread_not_found' });
  });

  it('rejects postMessage without a channel or without content, like Slack', async () => {
    const noChannel = await rejectionOf(client.chat.postMessage({ channel: '', text: 'hi' }));
    expect(noChannel.data).toMatchObject({ ok: false, error: 'channel_not_found' });
    const noText = await rejectionOf(client.apiCall('chat.postMessage', { channel: 'C0CARE' }));
    expect(noText.data).toMatchObject({ ok: false, error: 'no_text' });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
  });

  it('refuses payloads past Block Kit limits as Slack does, naming the field', async () => {
    const section = (text: string) => [{ type: 'section', text: { type: 'mrkdwn', text } }];
    const long = await rejectionOf(
      client.chat.postMessage({ channel: 'C0CARE', text: 'hi', blocks: section('x'.repeat(3001)) }),
    );
    expect(long.data).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
      response_metadata: {
        messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
      },
    });
    const tooMany = await rejectionOf(
      client.chat.update({
        channel: 'C0CARE',
        ts: '1.000100',
        text: 'hi',
        blocks: Array(51).fill(section('x')[0]),
      }),
    );
    expect(tooMany.data).toMatchObject({ ok: false, error: 'invalid_blocks' });
    const button = [
      {
        type: 'actions',
        elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'b'.repeat(76) } }],
      },
    ];
    const label = await rejectionOf(
      client.chat.postMessage({ channel: 'C0CARE', text: 'hi', blocks: button }),
    );
    expect(label.data).toMatchObject({ error: 'invalid_blocks' });
    const text = await rejectionOf(client.chat.postMessage({ channel: 'C0CARE', text: 'x'.repeat(40_001) }));
    expect(text.data).toMatchObject({ ok: false, error: 'msg_too_long' });
    const home = await rejectionOf(
      client.views.publish({
        user_id: 'U1',
        view: {
          type: 'home',
          blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
        },
      }),
    );
    expect(home.data).toMatchObject({ ok: false, error: 'invalid_arguments' });
    const fine = await client.chat.postMessage({
      channel: 'C0CARE',
      text: 'hi',
      blocks: section('x'.repeat(3000)),
    });
    expect(fine.ok).toBe(true);
  });

  it('turns failNext with an error into a WebAPIPlatformError, then recovers', async () => {
    fake.failNext('chat.update', { error: 'message_not_found' });

    const error = await rejectionOf(client.chat.update({ channel: 'C0CARE', ts: '1.000100', text: 'x' }));
    expect(error.code).toBe(ErrorCode.PlatformError);
    expect(error.data).toMatchObject({ ok: false, error: 'message_not_found' });

    const retried = await client.chat.update({ channel: 'C0CARE', ts: '1.000100', text: 'x' });
    expect(retried).toMatchObject({ ok: true, channel: 'C0CARE', ts: '1.000100', text: 'x' });
    expect(fake.callsTo('chat.update').map((c) => c.ok)).toEqual([false, true]);
  });

  it('answers failNext 429 with Retry-After, surfaced as a rate-limited error', async () => {
    const impatient = new WebClient(BOT_TOKEN, {
      slackApiUrl: fake.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });

    const error = await rejectionOf(impatient.chat.postMessage({ channel: 'C0CARE', text: 'hi' }));
    expect(error.code).toBe(ErrorCode.RateLimitedError);
    expect(error.retryAfter).toBe(7);
    expect(fake.calls[0]).toMatchObject({ status: 429, ok: false, response: { error: 'ratelimited' } });
  });

  it('fails a method the requested number of times with a 5xx, in queue order', async () => {
    fake.failNext('reactions.add', { status: 500, times: 2 });
    fake.failNext('reactions.add', { error: 'already_reacted' });
    const react = () => client.reactions.add({ channel: 'C0CARE', timestamp: '1.000100', name: 'eyes' });

    expect((await rejectionOf(react())).statusCode).toBe(500);
    expect((await rejectionOf(react())).statusCode).toBe(500);
    expect((await rejectionOf(react())).data).toMatchObject({ error: 'already_reacted' });
    await expect(react()).resolves.toMatchObject({ ok: true });
  });

  it('answers 503 to everything while down', async () => {
    fake.setDown(true);
    const error = await rejectionOf(client.auth.test());
    expect(error.code).toBe(ErrorCode.HTTPError);
    expect(error.statusCode).toBe(503);

    fake.setDown(false);
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
  });

  it('waitFor ignores failed calls and times out listing what was called', async () => {
    fake.failNext('chat.postMessage', { error: 'is_archived' });
    await rejectionOf(client.chat.postMessage({ channel: 'C0CARE', text: 'hi' }));
    await client.auth.test();

    await expect(fake.waitFor('chat.postMessage', 1, 50)).rejects.toThrow(
      /chat\.postMessage \[is_archived\], auth\.test \[ok\]/,
    );
  });

  it('waitFor resolves when a later call arrives', async () => {
    const waiting = fake.waitFor('chat.postEphemeral');
    await client.chat.postEphemeral({ channel: 'C0CARE', user: 'U1', text: 'only you' });
    const [call] = await waiting;
    expect(call?.params).toMatchObject({ channel: 'C0CARE', user: 'U1', text: 'only you' });
    expect(call?.response?.message_ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it('answers views, permalinks, users and usergroups', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'resolve_case',
      private_metadata: '{"caseId":42}',
      title: { type: 'plain_text' as const, text: 'Resolve' },
      blocks: [],
    };
    const opened = await client.views.open({ trigger_id: '1.2.abc', view });
    expect(opened.view).toMatchObject({ callback_id: 'resolve_case', private_metadata: '{"caseId":42}' });
    expect(opened.view?.id).toMatch(/^V/);
    expect(fake.callsTo('views.open')[0]?.params.view).toEqual(view);

    const updated = await client.views.update({ view_id: opened.view?.id ?? '', view });
    expect(updated.view?.id).toBe(opened.view?.id);

    const link = await client.chat.getPermalink({ channel: 'C0CARE', message_ts: '1763900000.000100' });
    expect(link.permalink).toBe('https://fake.slack.test/archives/C0CARE/p1763900000000100');

    fake.users.set('U1', { id: 'U1', name: 'ada', real_name: 'Ada Lovelace' });
    expect((await client.users.info({ user: 'U1' })).user).toMatchObject({
      name: 'ada',
      real_name: 'Ada Lovelace',
    });
    expect((await client.users.info({ user: 'U9X' })).user).toMatchObject({
      name: 'u9x',
      real_name: 'User U9X',
    });

    fake.usergroupMembers.set('S0AGENTS', ['U1', 'U2']);
    expect((await client.usergroups.users.list({ usergroup: 'S0AGENTS' })).users).toEqual(['U1', 'U2']);
    const unknownGroup = await rejectionOf(client.usergroups.users.list({ usergroup: 'S0NOPE' }));
    expect(unknownGroup.data).toMatchObject({ error: 'no_such_subteam' });

    const unknown = await rejectionOf(client.apiCall('admin.everything.delete'));
    expect(unknown.data).toMatchObject({ error: 'unknown_method' });
  });

  it('answers presence, a profile with its status, and lists users page by page', async () => {
    expect(await client.users.getPresence({ user: 'U0SOMEONE' })).toMatchObject({
      ok: true,
      presence: 'active',
    });
    fake.presence.set('U0SOMEONE', 'away');
    const away = await client.users.getPresence({ user: 'U0SOMEONE' });
    // For anyone but the caller Slack gives the presence only.
    expect(Object.keys(away).filter((k) => k !== 'response_metadata')).toEqual(['ok', 'presence']);
    expect(away.presence).toBe('away');

    expect((await client.users.profile.get({ user: 'U0SOMEONE' })).profile).toMatchObject({
      status_emoji: '',
      status_text: '',
      status_expiration: 0,
    });
    fake.statuses.set('U0SOMEONE', { emoji: ':palm_tree:', text: 'Holiday', expiration: 1_800_000_000 });
    expect((await client.users.profile.get({ user: 'U0SOMEONE' })).profile).toMatchObject({
      status_emoji: ':palm_tree:',
      status_text: 'Holiday',
      status_expiration: 1_800_000_000,
    });
    fake.scopes = fake.scopes.filter((s) => s !== 'users.profile:read');
    const refused = await rejectionOf(client.users.profile.get({ user: 'U0SOMEONE' }));
    expect(refused.data).toMatchObject({ error: 'missing_scope', needed: 'users.profile:read' });

    for (const id of ['U0L1', 'U0L2', 'U0L3']) fake.users.set(id, { id, name: id.toLowerCase() });
    const listed: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.users.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.members?.length).toBeLessThanOrEqual(2);
      listed.push(...(page.members ?? []).map((m) => m.id ?? ''));
      cursor = page.response_metadata?.next_cursor || undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(fake.users.size / 2));
    expect(listed).toEqual([...fake.users.keys()]);
    expect(listed).toEqual(expect.arrayContaining(['U0L1', 'U0L2', 'U0L3']));

    fake.reset();
    expect((await client.users.getPresence({ user: 'U0SOMEONE' })).presence).toBe('active');
  });

  it('accepts JSON bodies with a bearer token, and refuses calls without a token', async () => {
    const response = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer xoxb-json' },
      body: JSON.stringify({ channel: 'C0CARE', text: 'json', unfurl_links: false }),
    });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C0CARE' });
    expect(fake.calls[0]).toMatchObject({
      token: 'xoxb-json',
      params: { text: 'json', unfurl_links: false },
    });

    const anonymous = new WebClient(undefined, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const error = await rejectionOf(anonymous.auth.test());
    expect(error.data).toMatchObject({ error: 'not_authed' });
  });
});

describe('Slack request signing', () => {
  const secret = 'signing-secret-for-tests';

  it('produces headers that Bolt’s own verifier accepts', () => {
    const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
    const headers = signSlackRequest(secret, body);
    expect(headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);

    const verify = (withSecret: string, withBody: string) =>
      verifySlackRequest({
        signingSecret: withSecret,
        body: withBody,
        headers: {
          'x-slack-signature': headers['x-slack-signature'],
          // Bolt's receivers convert the header to a number before verifying.
          'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
        },
      });
    expect(() => verify(secret, body)).not.toThrow();
    expect(() => verify('another-secret', body)).toThrow(/signature mismatch/);
    expect(() => verify(secret, `${body}x`)).toThrow(/signature mismatch/);
  });

  it('signs with an explicit timestamp, which Bolt rejects once stale', () => {
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    const headers = signSlackRequest(secret, '{}', tenMinutesAgo);
    expect(headers['x-slack-request-timestamp']).toBe(String(tenMinutesAgo));
    expect(() =>
      verifySlackRequest({
        signingSecret: secret,
        body: '{}',
        headers: {
          'x-slack-signature': headers['x-slack-signature'],
          'x-slack-request-timestamp': tenMinutesAgo,
        },
      }),
    ).toThrow(/stale/);
  });
});

describe('payload builders delivered to a real Bolt app', () => {
  const secret = 'bolt-signing-secret';
  let fake: FakeSlack;
  let app: App;
  let baseUrl: string;
  const seen: Record<string, unknown> = {};

  beforeAll(async () => {
    fake = await startFakeSlack();
    app = new App({
      token: BOT_TOKEN,
      signingSecret: secret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    app.action('claim_case', async ({ ack, body, client, respond }) => {
      await ack();
      seen.action = body;
      if (body.type !== 'block_actions' || !body.channel || !body.message) return;
      await client.chat.postMessage({
        channel: body.channel.id,
        thread_ts: body.message.ts,
        text: 'claimed',
      });
      await respond({ text: 'you claimed it', replace_original: false });
    });
    app.view('resolve_case', async ({ ack, view }) => {
      seen.view = view;
      await ack();
    });
    app.command('/care', async ({ ack, command }) => {
      seen.command = command;
      await ack({ response_type: 'ephemeral', text: 'noted' });
    });
    app.event('app_mention', async ({ event, client }) => {
      await client.reactions.add({ channel: event.channel, timestamp: event.ts, name: 'eyes' });
    });
    const server = await app.start(0);
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  it('routes a block_actions button click to app.action, which can reply and respond', async () => {
    const payload = blockActionPayload({
      actionId: 'claim_case',
      value: 'case-42',
      userId: 'U0AGENT001',
      channelId: 'C0CARE',
      messageTs: '1763900000.000100',
      responseUrl: fake.responseUrl(),
    });
    const result = await postSlackInteraction(baseUrl, secret, payload);
    expect(result.status).toBe(200);

    const [posted] = await fake.waitFor('chat.postMessage');
    expect(posted?.params).toMatchObject({
      channel: 'C0CARE',
      thread_ts: '1763900000.000100',
      text: 'claimed',
    });
    const [responded] = await fake.waitFor('response_url');
    expect(responded?.params).toMatchObject({ text: 'you claimed it' });
    expect(seen.action).toMatchObject({
      actions: [{ action_id: 'claim_case', value: 'case-42', type: 'button' }],
    });
  });

  it('routes a view_submission to app.view with state values as Slack sends them', async () => {
    const payload = viewSubmissionPayload({
      callbackId: 'resolve_case',
      userId: 'U0AGENT001',
      privateMetadata: '{"caseId":42}',
      values: {
        resolution: { resolution_input: 'Refund issued' },
        outcome: { outcome_select: { type: 'static_select', selected_option: { value: 'resolved' } } },
      },
    });
    const result = await postSlackInteraction(baseUrl, secret, payload);
    expect(result.status).toBe(200);
    expect(seen.view).toMatchObject({
      private_metadata: '{"caseId":42}',
      state: {
        values: {
          resolution: { resolution_input: { type: 'plain_text_input', value: 'Refund issued' } },
          outcome: { outcome_select: { selected_option: { value: 'resolved' } } },
        },
      },
    });
  });

  it('routes a slash command and returns the ack body', async () => {
    const result = await postSlashCommand(baseUrl, secret, { command: '/care', text: 'status 42' });
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ text: 'noted' });
    expect(seen.command).toMatchObject({ command: '/care', text: 'status 42', team_id: 'T0CAREBOT' });
  });

  it('routes an event_callback, and refuses a request signed with the wrong secret', async () => {
    const envelope = eventCallbackEnvelope({
      type: 'app_mention',
      user: 'U0CUSTOMER',
      text: '<@UBOT> help',
      ts: '1763900001.000100',
      channel: 'C0CARE',
    });
    const forged = await postSlackEvent(baseUrl, 'wrong-secret', envelope);
    expect(forged.status).toBe(401);

    const result = await postSlackEvent(baseUrl, secret, envelope, { 'x-slack-retry-num': '1' });
    expect(result.status).toBe(200);
    const [reaction] = await fake.waitFor('reactions.add');
    expect(reaction?.params).toMatchObject({
      channel: 'C0CARE',
      timestamp: '1763900001.000100',
      name: 'eyes',
    });
  });
});
