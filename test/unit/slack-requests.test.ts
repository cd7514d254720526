import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockActionPayload,
  postSignedSlackRequest,
  postSlackInteraction,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { MAX_SLACK_BODY, SlackHttpReceiver } from '../../src/http/slack-receiver.js';
import { createLogger } from '../../src/logger.js';
import { rawConnect, trickle, within } from '../support/raw-http.js';

const SECRET = 'test-signing-secret-for-acks';

/** A gate a listener waits on, opened by the test. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('Slack requests in front of Bolt', () => {
  let slack: FakeSlack;
  let server: Server;
  let url: string;
  const clickGate = gate();
  const handled: string[] = [];
  beforeAll(async () => {
    slack = await startFakeSlack();
    const receiver = new SlackHttpReceiver({ signingSecret: SECRET, logger: createLogger('silent') });
    const app = new App({
      token: 'xoxb-0000-test-bot-token',
      receiver,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.url },
      deferInitialization: true,
    });
    await app.init();
    // Acks first and works after, as carebot's listeners do.
    app.action('slow_button', async ({ ack, action }) => {
      await ack();
      await clickGate.opened;
      handled.push(`click:${'value' in action ? action.value : ''}`);
    });
    app.view('needs_errors', async ({ ack }) => {
      handled.push('view');
      await ack({ response_action: 'errors', errors: { note: 'Say what you need' } });
    });
    server = createServer(receiver.requestListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    clickGate.open();
    await new Promise((resolve) => server.close(resolve));
    await slack.close();
  });

  it("hands a signed click to Bolt, where the listener's ack answers it before its work, which runs once", async () => {
    const res = await postSlackInteraction(
      url,
      SECRET,
      blockActionPayload({
        actionId: 'slow_button',
        value: '42',
        userId: 'U0AGENT001',
        channelId: 'C0CARE0001',
        messageTs: '1763900000.000100',
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(handled).toEqual([]);
    clickGate.open();
    await expect.poll(() => handled).toEqual(['click:42']);
  });

  it('leaves a modal submission to Bolt, whose ack carries the validation errors', async () => {
    const res = await postSlackInteraction(
      url,
      SECRET,
      viewSubmissionPayload({ callbackId: 'needs_errors', userId: 'U0AGENT001', values: {} }),
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_action: 'errors', errors: { note: 'Say what you need' } });
  });

  it('refuses a click with a bad signature, running nothing', async () => {
    const before = handled.length;
    const res = await postSlackInteraction(
      url,
      'not-the-secret',
      blockActionPayload({
        actionId: 'slow_button',
        value: '7',
        userId: 'U0AGENT001',
        channelId: 'C0CARE0001',
        messageTs: '1763900000.000100',
      }),
    );
    expect(res.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handled.length).toBe(before);
  });

  it('refuses a request dated more than 5 minutes in the future, like a stale one', async () => {
    const before = handled.length;
    const payload = blockActionPayload({
      actionId: 'slow_button',
      value: '8',
      userId: 'U0AGENT001',
      channelId: 'C0CARE0001',
      messageTs: '1763900000.000100',
    });
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const at = (offsetSeconds: number) =>
      postSignedSlackRequest(`${url}/slack/events`, {
        secret: SECRET,
        body,
        contentType: 'application/x-www-form-urlencoded',
        timestampSeconds: Math.floor(Date.now() / 1000) + offsetSeconds,
      });
    expect((await at(6 * 60)).status).toBe(401);
    expect((await at(24 * 60 * 60)).status).toBe(401);
    expect((await at(-6 * 60)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handled.length).toBe(before);
    // Within the 5 minutes either way (clocks drift), the request is Slack's.
    expect((await at(4 * 60)).status).toBe(200);
    await expect.poll(() => handled.length).toBe(before + 1);
  });

  it('refuses a body over 1 MiB with 413 and hangs up instead of reading the rest', async () => {
    // Declared too large: answered before any of it is read.
    const declared = await rawConnect(url);
    declared.write(
      'POST /slack/events HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
        `content-length: ${2 * 1024 * 1024}\r\n\r\n{"a":`,
    );
    const stop = trickle(declared, 20);
    expect(await within(declared.closed, 3000, 'still open')).not.toBe('still open');
    stop();
    expect(declared.received()).toMatch(/^HTTP\/1\.1 413/);
    expect(declared.received()).toMatch(/connection: close/i);

    // Chunked, so only counting finds it too large: the upload is cut off, not drained.
    const chunked = await rawConnect(url);
    chunked.write(
      'POST /slack/events HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
        'transfer-encoding: chunked\r\n\r\n',
    );
    const piece = Buffer.alloc(256 * 1024, 'a');
    for (let i = 0; i < 5; i++) chunked.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    const keepGoing = setInterval(() => chunked.write(`${piece.length.toString(16)}\r\n${piece}\r\n`), 50);
    const closedAfter = await within(chunked.closed, 3000, 'still open');
    clearInterval(keepGoing);
    chunked.destroy();
    expect(closedAfter).not.toBe('still open');
    expect(chunked.received()).toMatch(/^HTTP\/1\.1 413/);
    expect(MAX_SLACK_BODY).toBe(1024 * 1024);
  });
});
