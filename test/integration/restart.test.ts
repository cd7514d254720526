import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { seconds } from '../../src/care/clock.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, replies } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { type Carebot, startCarebot } from '../../src/main.js';
import {
  BOT_TOKEN,
  CARE_CHANNEL,
  complaint,
  deliver,
  EMPTY_CONFIG,
  postWebhook,
  SIGNING_SECRET,
  sync,
  tsOf,
  WEBHOOK_SECRET,
} from '../support/carebot.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase } from '../support/database.js';
import { type ReplyReceiver, startReplyReceiver } from '../support/reply-receiver.js';

/** Two carebot processes in turn on one database: the first stops (or dies) mid-way, the second goes on. */
describe('restarts', () => {
  let slack: FakeSlack;
  let receiver: ReplyReceiver;
  let db: DatabaseHandle;
  const clock = new ManualClock();
  const running: Carebot[] = [];

  const start = async () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      CARE_CHANNEL_ID: CARE_CHANNEL,
      CARE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CARE_CONFIG: EMPTY_CONFIG,
      CARE_WEBHOOK_REPLY_URL: receiver.url,
      CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
      PORT: '0',
    });
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const carebot = await startCarebot({
      config,
      clock,
      database: db,
      logger: createLogger('silent', sink),
      schedule: false,
    });
    running.push(carebot);
    return { carebot, url: `http://127.0.0.1:${carebot.port}` };
  };

  beforeAll(async () => {
    slack = await startFakeSlack();
    receiver = await startReplyReceiver(WEBHOOK_SECRET);
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const c of running) await c.stop();
    await db?.close();
    await slack?.close();
    await receiver?.close();
  });

  it('delivers a reply exactly once when carebot stops inside the undo window and starts again', async () => {
    const first = await start();
    await postWebhook(first, complaint({ id: 'r1', conversationId: 'c-r1' }));
    await sync(first);
    const threadTs = tsOf(slack.callsTo('chat.postMessage')[0]);
    await postSlackInteraction(
      first.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_claim',
        value: '1',
        userId: 'U0AGENT001',
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    await vi.waitFor(async () => expect((await db.db.select().from(cases))[0]?.ownerId).toBe('U0AGENT001'));
    await postThreadMessage(first.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: 'U0AGENT001',
      text: 'On it!',
    });
    await vi.waitFor(async () => expect(await db.db.select().from(replies)).toHaveLength(1));
    await first.carebot.stop();
    expect(receiver.received).toHaveLength(0);

    const second = await start();
    clock.advance(seconds(11));
    await deliver(second);
    await deliver(second);
    expect(receiver.received.map((r) => r.body.text)).toEqual(['On it!']);
    await sync(second);
    expect(slack.callsTo('reactions.add').filter((c) => c.ok)).toHaveLength(1);
  });

  it('resends with the same idempotency key when a process died mid-send, after its lease ran out', async () => {
    const carebot = running.at(-1) as Carebot;
    const [reply] = await db.db.select().from(replies);
    // Imitate a process that leased the reply and died before recording the outcome.
    await db.db
      .update(replies)
      .set({ status: 'sending', leaseUntil: new Date(clock.now().getTime() + 60_000) })
      .where(eq(replies.id, reply?.id ?? 0));
    await deliver({ carebot });
    expect(receiver.received).toHaveLength(1);
    clock.advance(seconds(61));
    await deliver({ carebot });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]?.headers['webhook-id']).toBe(receiver.received[0]?.headers['webhook-id']);
    const [count] = await db.db.select({ n: sql<number>`count(*)::int` }).from(replies);
    expect(count?.n).toBe(1);
  });

  it('delivers each reply once, in order, when two instances run delivery at the same moment', async () => {
    const a = running.at(-1) as Carebot;
    const b = (await start()).carebot;
    const before = receiver.received.length;
    const url = `http://127.0.0.1:${a.port}`;
    await postWebhook({ url }, complaint({ id: 'r2', conversationId: 'c-r2' }));
    await sync({ carebot: a });
    const threadTs = tsOf(
      slack
        .callsTo('chat.postMessage')
        .filter((c) => c.ok && !c.params.thread_ts)
        .at(-1),
    );
    const [row] = await db.db.select().from(cases).where(eq(cases.conversationId, 'c-r2'));
    await postSlackInteraction(
      url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_claim',
        value: String(row?.id),
        userId: 'U0AGENT001',
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    await vi.waitFor(async () =>
      expect(
        (
          await db.db
            .select()
            .from(cases)
            .where(eq(cases.id, row?.id ?? 0))
        )[0]?.ownerId,
      ).toBe('U0AGENT001'),
    );
    for (let i = 0; i < 5; i++) {
      await postThreadMessage(url, SIGNING_SECRET, {
        channel: CARE_CHANNEL,
        threadTs,
        user: 'U0AGENT001',
        text: `Update ${i}`,
      });
    }
    await vi.waitFor(async () =>
      expect(
        await db.db
          .select()
          .from(replies)
          .where(eq(replies.caseId, row?.id ?? 0)),
      ).toHaveLength(5),
    );
    clock.advance(seconds(11));
    await Promise.all([
      deliver({ carebot: a }),
      deliver({ carebot: b }),
      deliver({ carebot: a }),
      deliver({ carebot: b }),
    ]);
    const texts = receiver.received.slice(before).map((r) => r.body.text);
    // Each once, and in the order they were written.
    expect(texts).toEqual(['Update 0', 'Update 1', 'Update 2', 'Update 3', 'Update 4']);
  });
});
