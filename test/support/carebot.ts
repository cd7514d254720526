import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { type Carebot, startCarebot } from '../../src/main.js';
import { signWebhook } from '../../src/sources/webhook/verify.js';
import { ManualClock } from './clock.js';
import { createTestDatabase, truncateAll } from './database.js';
import { type ReplyReceiver, startReplyReceiver } from './reply-receiver.js';

export const CARE_CHANNEL = 'C0CARE0001';
export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const WEBHOOK_SECRET = `whsec_${Buffer.from('carebot-test-webhook-secret-0001').toString('base64')}`;
export const BOT_TOKEN = 'xoxb-0000-test-bot-token';

/** An empty config file, so a developer's own carebot.config.yaml never leaks into a test. */
export const EMPTY_CONFIG = join(mkdtempSync(join(tmpdir(), 'carebot-empty-')), 'carebot.config.yaml');
writeFileSync(EMPTY_CONFIG, '');

export interface TestCarebot {
  carebot: Carebot;
  slack: FakeSlack;
  db: DatabaseHandle;
  clock: ManualClock;
  config: Config;
  /** Everything carebot logged, as JSON lines (for "secrets never appear in logs"). */
  logs: string[];
  url: string;
  /** Where the generic webhook's replies go. */
  receiver: ReplyReceiver;
}

/**
 * One carebot in HTTP mode, a fake Slack and a real database for a whole test file; between tests
 * the tables are emptied and the fake reset. The Slack sync runs when a test calls `sync()` or
 * when carebot kicks it, never on a timer, so tests do not depend on wall-clock time.
 */
export function useCarebot(env: Record<string, string> = {}): () => TestCarebot {
  let current: TestCarebot | undefined;
  beforeAll(async () => {
    const slack = await startFakeSlack();
    const receiver = await startReplyReceiver(WEBHOOK_SECRET);
    const db = await createTestDatabase();
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      CARE_CHANNEL_ID: CARE_CHANNEL,
      CARE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CARE_WEBHOOK_REPLY_URL: receiver.url,
      // The reply receiver is on 127.0.0.1.
      CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
      CARE_CONFIG: EMPTY_CONFIG,
      PORT: '0',
      LOG_LEVEL: 'debug',
      ...env,
    });
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const clock = new ManualClock();
    const carebot = await startCarebot({
      config,
      clock,
      database: db,
      logger: createLogger('debug', sink),
      schedule: false,
    });
    current = { carebot, slack, db, clock, config, logs, receiver, url: `http://127.0.0.1:${carebot.port}` };
  });
  beforeEach(async () => {
    if (!current) return;
    await current.carebot.sync.idle();
    await current.carebot.deliver.idle();
    await truncateAll(current.db);
    current.slack.reset();
    current.receiver.reset();
    current.logs.length = 0;
    current.clock.set('2026-11-23T10:00:00Z');
  });
  afterAll(async () => {
    await current?.carebot.stop();
    await current?.db.close();
    await current?.slack.close();
    await current?.receiver.close();
  });
  return () => {
    if (!current) throw new Error('useCarebot: not started');
    return current;
  };
}

/** Runs reply delivery once everything due is due (what the cron and the window timers do). */
export async function deliver(t: Pick<TestCarebot, 'carebot'>): Promise<void> {
  await t.carebot.deliver.idle();
  while ((await t.carebot.deliver.runOnce()) > 0) {}
}

/** Runs the Slack sync to completion (what carebot's kick and cron do in production). */
export async function sync(t: Pick<TestCarebot, 'carebot'>): Promise<void> {
  await t.carebot.sync.idle();
  while ((await t.carebot.sync.runOnce()) > 0) {}
}

export interface WebhookMessage {
  source?: string;
  id?: string;
  conversationId?: string;
  author?: { id: string; name?: string; handle?: string; url?: string };
  text?: string;
  url?: string;
  createdAt?: string;
}

export function complaint(overrides: WebhookMessage = {}): Record<string, unknown> {
  return {
    source: 'forum',
    id: `msg-${randomBytes(4).toString('hex')}`,
    author: { id: 'u1', name: 'Jane Doe', handle: 'jane', url: 'https://forum.example/u/jane' },
    text: 'My order never arrived',
    url: 'https://forum.example/t/9#123',
    createdAt: '2026-11-23T09:59:00Z',
    ...overrides,
  };
}

/** POSTs a body to the generic webhook, signed with the Standard Webhooks scheme. */
export async function postWebhook(
  t: Pick<TestCarebot, 'url'>,
  body: unknown,
  opts: { secret?: string; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = opts.raw ?? JSON.stringify(body);
  const headers = signWebhook(
    opts.secret ?? WEBHOOK_SECRET,
    `wh_${randomBytes(6).toString('hex')}`,
    new Date(),
    raw,
  );
  const res = await fetch(`${t.url}/sources/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers, ...opts.headers },
    body: raw,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The ts Slack gave a posted message; fails the test clearly if there was no such call. */
export function tsOf(call: { response?: Record<string, unknown> | undefined } | undefined): string {
  const ts = call?.response?.ts;
  if (typeof ts !== 'string') throw new Error('expected a successful chat.postMessage call');
  return ts;
}

export type Block = { type: string; text?: { text: string }; elements?: Array<Record<string, unknown>> };

export function blocksOf(call: { params: Record<string, unknown> } | undefined): Block[] {
  return (call?.params.blocks ?? []) as Block[];
}
