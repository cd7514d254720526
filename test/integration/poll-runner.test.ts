import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { recordInbound } from '../../src/care/case-inbound.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { cases, sourceCursors } from '../../src/db/schema.js';
import { PollRunner } from '../../src/jobs/pollers.js';
import { createLogger } from '../../src/logger.js';
import type { PollContext, Poller, PollOutcome } from '../../src/sources/types.js';
import { CARE_CHANNEL, sync, type TestCarebot, useCarebot } from '../support/carebot.js';

/** A poller whose answers a test scripts, recording the cursors it was handed. */
function scripted(key: string, answers: Array<(ctx: PollContext) => Promise<PollOutcome>>) {
  const seen: Array<string | undefined> = [];
  const poller: Poller = {
    key,
    label: `test source ${key}`,
    everyMs: 60_000,
    poll: async (ctx) => {
      seen.push(ctx.cursor);
      const next = answers.shift();
      if (!next) return { kind: 'ok', cursor: ctx.cursor, stored: 0 };
      return next(ctx);
    },
  };
  return { poller, seen };
}

function runner(t: TestCarebot, pollers: Poller[]) {
  return new PollRunner({
    db: t.db.db,
    clock: t.clock,
    logger: createLogger('silent'),
    pollers,
    record: (m) => recordInbound(t.db.db, t.clock, m),
    noticeChannel: CARE_CHANNEL,
    onNotice: () => {},
  });
}

const message = (id: string) => ({
  sourceKey: 'test:one',
  platform: 'webhook',
  externalId: id,
  conversationId: id,
  author: { id: 'u1', name: 'Jane' },
  text: `complaint ${id}`,
  sentAt: new Date('2026-11-23T09:00:00Z'),
  channelId: CARE_CHANNEL,
});

describe('the poll runner', () => {
  const carebot = useCarebot();

  it('hands each poll the cursor the last successful one returned, at the interval', async () => {
    const t = carebot();
    const { poller, seen } = scripted('test:one', [
      async (ctx) => {
        await ctx.record(message('a'));
        return { kind: 'ok', cursor: 'c1', stored: 1 };
      },
      async () => ({ kind: 'failed', reason: 'HTTP 502' }),
      async () => ({ kind: 'ok', cursor: 'c2', stored: 0 }),
    ]);
    const r = runner(t, [poller]);
    expect(await r.runOnce()).toBe(true);
    expect(await r.runOnce()).toBe(false); // not due again yet
    t.clock.advance(minutes(1));
    await r.runOnce(); // fails: the cursor stays
    t.clock.advance(minutes(1));
    await r.runOnce();
    expect(seen).toEqual([undefined, 'c1', 'c1']);
    const [state] = await t.db.db.select().from(sourceCursors).where(eq(sourceCursors.sourceKey, 'test:one'));
    expect(state?.cursor).toBe('c2');
    expect(await t.db.db.select().from(cases)).toHaveLength(1);
  });

  it('waits for the rate-limit reset before polling again', async () => {
    const t = carebot();
    const { poller, seen } = scripted('test:rl', [
      async (ctx) => ({ kind: 'rate_limited', retryAt: new Date(ctx.clock.now().getTime() + 10 * 60_000) }),
    ]);
    const r = runner(t, [poller]);
    await r.runOnce();
    t.clock.advance(minutes(5));
    expect(await r.runOnce()).toBe(false);
    t.clock.advance(seconds(301));
    expect(await r.runOnce()).toBe(true);
    expect(seen).toHaveLength(2);
  });

  it('pauses a source whose credentials fail with one notice, and says when it works again', async () => {
    const t = carebot();
    const auth = async (): Promise<PollOutcome> => ({
      kind: 'auth_failed',
      reason: 'X answered 401 Unauthorized',
      hint: 'Regenerate the access token.',
    });
    const { poller } = scripted('test:auth', [
      auth,
      auth,
      auth,
      async () => ({ kind: 'ok', cursor: 'x', stored: 0 }),
    ]);
    const r = runner(t, [poller]);
    for (let i = 0; i < 3; i++) {
      await r.runOnce();
      t.clock.advance(minutes(5));
    }
    const [paused] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, 'test:auth'));
    expect(paused?.status).toBe('paused');
    await sync(t);
    const notices = t.slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.params.text).includes('test source test:auth'));
    expect(notices.map((n) => n.params.text)).toHaveLength(1);
    expect(String(notices[0]?.params.text)).toContain(
      'is paused: X answered 401 Unauthorized. Regenerate the access token.',
    );
    expect(notices[0]?.params.channel).toBe(CARE_CHANNEL);

    await r.runOnce();
    await sync(t);
    const all = t.slack.callsTo('chat.postMessage').map((c) => String(c.params.text));
    expect(all.filter((x) => x.includes('works again; carebot is reading it'))).toHaveLength(1);
    const [active] = await t.db.db
      .select()
      .from(sourceCursors)
      .where(eq(sourceCursors.sourceKey, 'test:auth'));
    expect(active?.status).toBe('active');
  });

  it('polls a source on one instance at a time', async () => {
    const t = carebot();
    let calls = 0;
    const slow: Poller = {
      key: 'test:slow',
      label: 'slow',
      everyMs: 60_000,
      poll: async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { kind: 'ok', cursor: String(calls), stored: 0 };
      },
    };
    const a = runner(t, [slow]);
    const b = runner(t, [slow]);
    await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    expect(calls).toBe(1);
  });

  it('does not let a poll that outlived its lease overwrite the cursor of the one that took over', async () => {
    const t = carebot();
    let release: (() => void) | undefined;
    let started: (() => void) | undefined;
    const polling = new Promise<void>((resolve) => {
      started = resolve;
    });
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { poller } = scripted('test:stale', [
      // The first poll hangs past its lease (five minutes by default)…
      async () => {
        started?.();
        await stalled;
        return { kind: 'ok', cursor: 'stale', stored: 0 };
      },
      // …and another instance's poll, once the lease ran out, reads further.
      async () => ({ kind: 'ok', cursor: 'fresh', stored: 0 }),
    ]);
    const a = runner(t, [poller]);
    const b = runner(t, [poller]);
    const first = a.runOnce();
    await polling;
    t.clock.advance(minutes(6));
    expect(await b.runOnce()).toBe(true);
    release?.();
    expect(await first).toBe(true);
    const [row] = await t.db.db.select().from(sourceCursors).where(eq(sourceCursors.sourceKey, 'test:stale'));
    expect(row?.cursor).toBe('fresh');
  });
});
