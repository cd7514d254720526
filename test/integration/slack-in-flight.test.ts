import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { asc, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { nextTs, postThreadMessage } from '../../emulators/slack/events.js';
import {
  blockActionPayload,
  eventCallbackEnvelope,
  postSlackInteraction,
} from '../../emulators/slack/signing.js';
import { type FakeSocketMode, startFakeSocketMode } from '../../emulators/slack/socket-mode.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { DID_NOT_HAPPEN, MESSAGE_NOT_SAVED } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages, replies } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { type Carebot, startCarebot } from '../../src/main.js';
import {
  BOT_TOKEN,
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  tsOf,
  WEBHOOK_SECRET,
} from '../support/carebot.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase } from '../support/database.js';

const configDir = mkdtempSync(join(tmpdir(), 'carebot-inflight-'));
const configPath = join(configDir, 'carebot.config.yaml');
writeFileSync(configPath, 'care_team_usergroup: S0CARE0001\nreply_delay: 10s\n');

const AGENT = 'U0AGENT001';
const OTHER = 'U0AGENT002';

interface Running {
  carebot: Carebot;
  slack: FakeSlack;
  db: DatabaseHandle;
  socket: FakeSocketMode | undefined;
  url: string;
  logs: string[];
}

let running: Running | undefined;

async function start(mode: 'http' | 'socket'): Promise<Running> {
  const slack = await startFakeSlack();
  const socket = mode === 'socket' ? await startFakeSocketMode() : undefined;
  if (socket) slack.socketModeUrl = socket.url;
  slack.usergroupMembers.set('S0CARE0001', [AGENT, OTHER]);
  const db = await createTestDatabase();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const carebot = await startCarebot({
    config: loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.url,
      ...(socket
        ? { SLACK_APP_TOKEN: 'xapp-1-A0CAREBOT-0000-test' }
        : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
      CARE_CHANNEL_ID: CARE_CHANNEL,
      CARE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CARE_CONFIG: configPath,
      PORT: '0',
    }),
    clock: new ManualClock('2026-11-23T10:00:00Z'),
    database: db,
    logger: createLogger('info', sink),
    schedule: false,
  });
  if (socket) await socket.connected();
  running = { carebot, slack, db, socket, url: `http://127.0.0.1:${carebot.port}`, logs };
  return running;
}

afterEach(async () => {
  const r = running;
  running = undefined;
  await r?.carebot.stop();
  await r?.db.close();
  await r?.socket?.close();
  await r?.slack.close();
});

/** Two cases with their cards in Slack; returns the card (thread) ts of each. */
async function twoCases(r: Running): Promise<[string, string]> {
  await postWebhook(r, complaint({ id: 'm-1', conversationId: 'c-1' }));
  await postWebhook(r, complaint({ id: 'm-2', conversationId: 'c-2' }));
  await sync(r);
  const [first, second] = r.slack.callsTo('chat.postMessage');
  return [tsOf(first), tsOf(second)];
}

const claimClick = (caseId: number, userId: string, messageTs: string) =>
  blockActionPayload({
    actionId: 'case_claim',
    value: String(caseId),
    userId,
    channelId: CARE_CHANNEL,
    messageTs,
  });

const threadEvent = (threadTs: string, user: string, text: string) =>
  eventCallbackEnvelope({
    type: 'message',
    channel: CARE_CHANNEL,
    channel_type: 'channel',
    user,
    text,
    ts: nextTs(),
    thread_ts: threadTs,
    team: 'T0CAREBOT',
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectBothDone(r: Running) {
  // Checked as soon as stop() resolves, i.e. where the database would be closed.
  const [reply] = await r.db.db.select().from(replies);
  expect(reply?.text).toBe('Hi Jane, so sorry, checking now.');
  const rows = await r.db.db.select().from(cases).orderBy(asc(cases.id));
  expect(rows.map((c) => c.ownerId)).toEqual([AGENT, OTHER]);
}

describe('a restart while Slack work is in flight', { timeout: 60_000 }, () => {
  it('HTTP mode: stop() waits for a thread reply and a Claim click that wait on a slow user-group lookup', async () => {
    const r = await start('http');
    const [firstTs, secondTs] = await twoCases(r);
    r.slack.delays.set('usergroups.users.list', 1000);
    const message = postThreadMessage(r.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs: firstTs,
      user: AGENT,
      text: 'Hi Jane, so sorry, checking now.',
    });
    const click = await postSlackInteraction(r.url, SIGNING_SECRET, claimClick(2, OTHER, secondTs));
    expect(click.status).toBe(200);
    await sleep(100);
    await r.carebot.stop();
    await expectBothDone(r);
    // Acknowledged only once stored.
    expect((await message).status).toBe(200);
  });

  it('Socket Mode: stop() waits for them too, and acknowledges the thread message over the socket once stored', async () => {
    const r = await start('socket');
    const socket = r.socket as FakeSocketMode;
    const [firstTs, secondTs] = await twoCases(r);
    r.slack.delays.set('usergroups.users.list', 1000);
    let messageAcked = false;
    const message = socket
      .send('events_api', threadEvent(firstTs, AGENT, 'Hi Jane, so sorry, checking now.'))
      .then((ack) => {
        messageAcked = true;
        return ack;
      });
    await socket.send('interactive', claimClick(2, OTHER, secondTs));
    await sleep(100);
    expect(messageAcked).toBe(false);
    await r.carebot.stop();
    await expectBothDone(r);
    expect(typeof (await message).envelope_id).toBe('string');
  });
});

describe('a thread message is acknowledged only once it is stored', { timeout: 60_000 }, () => {
  it('HTTP mode: a database failure answers 500, so Slack redelivers, and the redelivery is stored once', async () => {
    const r = await start('http');
    const [threadTs] = await twoCases(r);
    const ts = nextTs();
    const say = (retryNum?: number) =>
      postThreadMessage(r.url, SIGNING_SECRET, {
        channel: CARE_CHANNEL,
        threadTs,
        user: 'U0SOMEONE1',
        text: 'note: customer called as well',
        ts,
        ...(retryNum !== undefined ? { retryNum } : {}),
      });
    // The database loses the table that maps threads to cases (a failed lookup).
    await r.db.db.execute(sql`alter table slack_threads rename to slack_threads_away`);
    const failed = await say();
    await r.db.db.execute(sql`alter table slack_threads_away rename to slack_threads`);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(await r.db.db.select().from(messages).where(eq(messages.kind, 'note'))).toEqual([]);

    const redelivered = await say(1);
    expect(redelivered.status).toBe(200);
    const again = await say(2);
    expect(again.status).toBe(200);
    const notes = await r.db.db.select().from(messages).where(eq(messages.kind, 'note'));
    expect(notes.map((n) => n.text)).toEqual(['customer called as well']);
  });

  it("HTTP mode: after Slack's last redelivery fails too, the author is told the message was not saved", async () => {
    const r = await start('http');
    const [threadTs] = await twoCases(r);
    await r.db.db.execute(sql`alter table slack_threads rename to slack_threads_away`);
    const last = await postThreadMessage(r.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: AGENT,
      text: 'Hi Jane, checking now.',
      retryNum: 3,
    });
    await r.db.db.execute(sql`alter table slack_threads_away rename to slack_threads`);
    expect(last.status).toBeGreaterThanOrEqual(500);
    const [told] = await r.slack.waitFor('chat.postEphemeral');
    expect(told?.params).toMatchObject({ user: AGENT, thread_ts: threadTs, text: MESSAGE_NOT_SAVED });
  });

  it('Socket Mode: a database failure leaves the envelope unacknowledged, so Slack redelivers', async () => {
    const r = await start('socket');
    const socket = r.socket as FakeSocketMode;
    const [threadTs] = await twoCases(r);
    await r.db.db.execute(sql`alter table slack_threads rename to slack_threads_away`);
    const event = threadEvent(threadTs, 'U0SOMEONE1', 'note: customer called as well');
    const outcome = await socket.send('events_api', event).then(
      () => 'acked',
      (err: Error) => err.message,
    );
    await r.db.db.execute(sql`alter table slack_threads_away rename to slack_threads`);
    expect(outcome).toBe('no ack for events_api envelope');
    const ack = await socket.send('events_api', { ...event, retry_attempt: 1 });
    expect(typeof ack.envelope_id).toBe('string');
    const notes = await r.db.db.select().from(messages).where(eq(messages.kind, 'note'));
    expect(notes.map((n) => n.text)).toEqual(['customer called as well']);
  });
});

describe('a click that fails after its ack', { timeout: 60_000 }, () => {
  it('tells the person, ephemerally, that it did not happen and to try again', async () => {
    const r = await start('http');
    const [, secondTs] = await twoCases(r);
    await r.db.db.execute(sql`alter table cases rename to cases_away`);
    const click = await postSlackInteraction(r.url, SIGNING_SECRET, claimClick(2, OTHER, secondTs));
    expect(click.status).toBe(200);
    const [told] = await r.slack.waitFor('chat.postEphemeral');
    await r.db.db.execute(sql`alter table cases_away rename to cases`);
    expect(told?.params).toMatchObject({ channel: CARE_CHANNEL, user: OTHER, text: DID_NOT_HAPPEN });
    const [row] = await r.db.db.select().from(cases).where(eq(cases.id, 2));
    expect(row?.ownerId).toBeNull();
  });
});
