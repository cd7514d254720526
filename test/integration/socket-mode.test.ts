import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockActionPayload } from '../../emulators/slack/signing.js';
import { type FakeSocketMode, startFakeSocketMode } from '../../emulators/slack/socket-mode.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { type Carebot, startCarebot } from '../../src/main.js';
import {
  BOT_TOKEN,
  CARE_CHANNEL,
  complaint,
  EMPTY_CONFIG,
  postWebhook,
  sync,
  tsOf,
  WEBHOOK_SECRET,
} from '../support/carebot.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase } from '../support/database.js';

describe('Socket Mode', () => {
  let slack: FakeSlack;
  let socket: FakeSocketMode;
  let db: DatabaseHandle;
  let carebot: Carebot;

  beforeAll(async () => {
    slack = await startFakeSlack();
    socket = await startFakeSocketMode();
    slack.socketModeUrl = socket.url;
    db = await createTestDatabase();
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: 'xapp-1-A0CAREBOT-0000-test',
      SLACK_API_URL: slack.url,
      CARE_CHANNEL_ID: CARE_CHANNEL,
      CARE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CARE_CONFIG: EMPTY_CONFIG,
      PORT: '0',
    });
    carebot = await startCarebot({
      config,
      clock: new ManualClock(),
      database: db,
      logger: createLogger('silent'),
      schedule: false,
    });
  });
  afterAll(async () => {
    await carebot?.stop();
    await socket?.close();
    await db?.close();
    await slack?.close();
  });

  it('opens its connection through SLACK_API_URL and handles a Claim click sent over the socket', async () => {
    await socket.connected();
    const [open] = slack.callsTo('apps.connections.open');
    expect(open?.token).toBe('xapp-1-A0CAREBOT-0000-test');
    const t = { url: `http://127.0.0.1:${carebot.port}`, carebot };
    // The webhook route still listens on PORT in Socket Mode.
    const res = await postWebhook(t, complaint({ id: 's1' }));
    expect(res.status).toBe(202);
    await sync(t);
    const ts = tsOf(slack.callsTo('chat.postMessage')[0]);
    const ack = await socket.send(
      'interactive',
      blockActionPayload({
        actionId: 'case_claim',
        value: '1',
        userId: 'U0AGENT001',
        channelId: CARE_CHANNEL,
        messageTs: ts,
      }),
    );
    expect(typeof ack.envelope_id).toBe('string');
    await slack.waitFor('chat.update');
    const [row] = await db.db.select().from(cases).where(eq(cases.id, 1));
    expect(row?.ownerId).toBe('U0AGENT001');
  });
});
