import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  postSlackInteraction,
  postSlashCommand,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { hours, minutes } from '../../src/care/clock.js';
import { escalateCase } from '../../src/care/escalations.js';
import { confirmedCase, forgetCustomer, REMOVED_TEXT } from '../../src/care/forget.js';
import { queueReply, recordNote } from '../../src/care/replies.js';
import { careStats } from '../../src/care/stats.js';
import { statsPeriod } from '../../src/care/stats-period.js';
import { queryRows } from '../../src/db/client.js';
import { caseEvents, cases, messages, replies, slackNotices } from '../../src/db/schema.js';
import { Retention } from '../../src/jobs/retention.js';
import { createLogger } from '../../src/logger.js';
import { FORGET_VIEW } from '../../src/slack/forget.js';
import {
  CARE_CHANNEL,
  complaint,
  deliver,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  useCarebot,
} from '../support/carebot.js';

const MANAGERS = 'S0MGRS0001';
const MANAGER = 'U0MANAGER1';
const AGENT = 'U0AGENT001';
const GUEST = 'U0GUEST001';

const configDir = mkdtempSync(join(tmpdir(), 'carebot-forget-'));
const configPath = join(configDir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [`managers_usergroup: ${MANAGERS}`, 'teams:', '  - { key: pr, name: PR, users: [U0PR000001] }'].join('\n'),
);

/** Strings only the forgotten customer's data holds: none may be left in any column afterwards. */
const SECRET = {
  name: 'Zebulon Quuxworth',
  handle: 'zq_unique_handle',
  profile: 'https://forum.example/u/zq-unique-profile',
  authorId: 'author-zq-9137',
  words: 'ZQWORDS',
  conversation: 'conv-zq-',
  link: 'https://forum.example/t/zq-thread',
};

const theirs = (n: number, conversation = 1) =>
  complaint({
    id: `zq-msg-${conversation}-${n}`,
    conversationId: `${SECRET.conversation}${conversation}`,
    author: { id: SECRET.authorId, name: SECRET.name, handle: SECRET.handle, url: SECRET.profile },
    text: `${SECRET.words} my parcel ${conversation}/${n} went missing`,
    url: `${SECRET.link}-${conversation}-${n}`,
  });

const someoneElse = complaint({
  id: 'other-1',
  conversationId: 'conv-other',
  author: { id: 'u-other', name: 'Olga Other', handle: 'olga' },
  text: 'OTHERWORDS stay please',
});

async function caseIdOf(t: TestCarebot, body: Record<string, unknown>): Promise<number> {
  const res = await postWebhook(t, body);
  expect(res.status).toBeLessThan(300);
  return Number(res.json.caseId);
}

function forgetCommand(t: TestCarebot, userId: string, text: string) {
  return postSlashCommand(t.url, SIGNING_SECRET, {
    command: '/care',
    text: `forget ${text}`,
    user_id: userId,
    response_url: t.slack.responseUrl('forget'),
  });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The private answer to the last /care forget (through the response_url). */
async function answer(t: TestCarebot, n = 1): Promise<string> {
  const calls = await t.slack.waitFor('response_url', n);
  return String(calls[n - 1]?.params.text ?? '');
}

/** Opens the modal as `userId` for `caseId`; returns the id Slack gave the view. */
async function openModal(t: TestCarebot, userId: string, caseId: number): Promise<string> {
  const before = t.slack.callsTo('views.open').length;
  await forgetCommand(t, userId, String(caseId));
  const [call] = (await t.slack.waitFor('views.open', before + 1)).slice(before);
  expect(call?.params.view).toMatchObject({ callback_id: FORGET_VIEW, private_metadata: String(caseId) });
  const view = call?.response?.view as { id?: string } | undefined;
  const viewId = String(view?.id);
  // The command records the confirmation right after views.open answers; a person cannot submit a
  // modal Slack has not drawn yet, but a test can, so it waits for the record as a person would.
  const end = Date.now() + 5000;
  while (!(await confirmedCase(t.db.db, { userId, viewId }))) {
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return viewId;
}

function submit(t: TestCarebot, userId: string, viewId: string, metadata: string) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    viewSubmissionPayload({ callbackId: FORGET_VIEW, userId, viewId, privateMetadata: metadata, values: {} }),
  );
}

/** Every text, varchar and jsonb column of every table, searched for `needle`. */
async function rowsHolding(t: TestCarebot, needle: string): Promise<string[]> {
  const columns = await queryRows<{ table_name: string; column_name: string }>(
    t.db.db,
    sql`select table_name, column_name from information_schema.columns
        where table_schema = 'public' and data_type in ('text', 'character varying', 'jsonb', 'json')`,
  );
  expect(columns.length).toBeGreaterThan(30);
  const hits: string[] = [];
  for (const c of columns) {
    const rows = await queryRows<{ n: number }>(
      t.db.db,
      sql`select count(*)::int as n from ${sql.identifier(c.table_name)}
          where ${sql.identifier(c.column_name)}::text ilike ${`%${needle}%`}`,
    );
    if (Number(rows[0]?.n) > 0) hits.push(`${c.table_name}.${c.column_name}`);
  }
  return hits;
}

async function statsNow(t: TestCarebot) {
  const now = t.clock.now();
  return careStats(t.db.db, {
    period: statsPeriod({ kind: '7d' }, now, 'UTC'),
    filter: {},
    now,
    businessHours: t.config.businessHours,
  });
}

describe('/care forget', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  const people = (t: TestCarebot) => {
    t.slack.usergroupMembers.set(MANAGERS, [MANAGER, GUEST]);
    t.slack.users.set(GUEST, { id: GUEST, name: 'guest', is_restricted: true });
  };

  it("erases the customer's words from every table and every Slack message, and keeps the stats", async () => {
    const t = carebot();
    people(t);
    const first = await caseIdOf(t, theirs(1, 1));
    t.clock.advance(minutes(1));
    await caseIdOf(t, theirs(2, 1));
    const second = await caseIdOf(t, theirs(1, 2));
    const other = await caseIdOf(t, someoneElse);
    await sync(t);
    // The owner answers (sent), quotes them in a note and an escalation, and queues one more reply.
    const origin = (ts: string) => ({ channel: CARE_CHANNEL, ts });
    await queueReply(t.db.db, t.clock, {
      caseId: first,
      authorId: AGENT,
      text: `Sorry about "${SECRET.words}", ${SECRET.name}`,
      origin: origin('1700000000.000100'),
      findings: [],
      delay: minutes(0),
    });
    await deliver(t);
    await recordNote(t.db.db, t.clock, {
      caseId: first,
      sourceKey: 'webhook:forum',
      authorId: AGENT,
      text: `note: ${SECRET.handle} is upset`,
      origin: origin('1700000000.000200'),
    });
    await escalateCase(t.db.db, t.clock, {
      caseId: second,
      teamKey: 'pr',
      note: `They wrote ${SECRET.words} publicly`,
      userId: AGENT,
    });
    await queueReply(t.db.db, t.clock, {
      caseId: second,
      authorId: AGENT,
      text: `Pending answer to ${SECRET.name}`,
      origin: origin('1700000000.000300'),
      findings: [],
      delay: hours(1),
    });
    await sync(t);
    const before = await statsNow(t);
    const posted = t.slack
      .callsTo('chat.postMessage')
      .filter((c) => JSON.stringify(c.params).includes('ZQWORDS'));
    expect(posted.length).toBeGreaterThanOrEqual(4); // two cards, the follow-up, the sent reply, the escalation
    t.slack.calls.length = 0;

    const viewId = await openModal(t, MANAGER, first);
    const modal = t.slack.callsTo('views.open')[0];
    expect(JSON.stringify(modal?.params.view)).not.toContain(SECRET.words);
    expect(JSON.stringify(modal?.params.view)).toContain(`case #${first}`);
    const res = await submit(t, MANAGER, viewId, String(first));
    expect(res.status).toBe(200);
    const dm = await until('the DM', () =>
      t.slack.callsTo('chat.postMessage').find((c) => c.params.channel === MANAGER),
    );
    expect(String(dm.params.text)).toContain(`#${first}, #${second}`);
    await sync(t);

    for (const needle of Object.values(SECRET)) expect(await rowsHolding(t, needle), needle).toEqual([]);
    // The other customer is untouched.
    expect(await rowsHolding(t, 'OTHERWORDS')).toEqual(['messages.text']);
    const [otherCase] = await t.db.db.select().from(cases).where(eq(cases.id, other));
    expect(otherCase?.conversationId).toBe('conv-other');

    // Slack: every message that showed their words was updated to say they were removed.
    const updates = t.slack.callsTo('chat.update');
    const updatedTs = new Set(updates.map((c) => String(c.params.ts)));
    for (const p of posted)
      expect(updatedTs, JSON.stringify(p.params.text)).toContain(String(p.response?.ts));
    for (const u of updates) {
      expect(JSON.stringify(u.params)).not.toContain(SECRET.words);
      expect(JSON.stringify(u.params)).not.toContain(SECRET.name);
    }
    expect(
      updates.filter((u) => JSON.stringify(u.params).includes("removed at the customer's request")).length,
    ).toBeGreaterThanOrEqual(posted.length);

    // The figures for the period add up as before.
    expect(await statsNow(t)).toEqual(before);
    // The pending reply will not go out.
    const pending = await t.db.db.select().from(replies).where(eq(replies.caseId, second));
    expect(pending.map((r) => r.status)).toEqual(['cancelled']);
    // Who and when, not what.
    const events = await t.db.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.type, 'customer_forgotten'))
      .orderBy(caseEvents.caseId);
    expect(events.map((e) => [e.caseId, e.actor, e.at.toISOString()])).toEqual([
      [first, MANAGER, t.clock.now().toISOString()],
      [second, MANAGER, t.clock.now().toISOString()],
    ]);
    const msgs = await t.db.db
      .select()
      .from(messages)
      .where(inArray(messages.caseId, [first, second]));
    expect(new Set(msgs.map((m) => m.text))).toEqual(new Set([REMOVED_TEXT]));
  });

  it("rewrites a crisis alert's sample line of an erased case, in the database and in Slack", async () => {
    const t = carebot();
    const id = await caseIdOf(t, theirs(1));
    const other = await caseIdOf(t, someoneElse);
    const lines = `*Sample cases*\n• Case #${id} (Forum): ${SECRET.words} my parcel\n• Case #${other} (Forum): OTHERWORDS stay`;
    await t.db.db.insert(slackNotices).values({
      key: 'crisis:alert:1',
      channelId: CARE_CHANNEL,
      text: ':rotating_light: *Spike on Forum*',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines, verbatim: true } }],
      createdAt: t.clock.now(),
      postedTs: '1700000000.000900',
      postedAt: t.clock.now(),
    });
    await forgetCustomer(t.db.db, t.clock, { caseId: id, actor: MANAGER });
    await sync(t);
    expect(await rowsHolding(t, SECRET.words)).toEqual([]);
    const [update] = t.slack.callsTo('chat.update').filter((c) => c.params.ts === '1700000000.000900');
    const shown = JSON.stringify(update?.params.blocks);
    expect(shown).toContain(`Case #${id} (Forum): ${REMOVED_TEXT}`);
    expect(shown).toContain(`Case #${other} (Forum): OTHERWORDS stay`);
  });

  it('refuses a care agent when managers are set, and a guest even in the managers group', async () => {
    const t = carebot();
    people(t);
    const id = await caseIdOf(t, theirs(1));
    await forgetCommand(t, AGENT, String(id));
    expect(await answer(t, 1)).toContain('Only the care managers');
    await forgetCommand(t, GUEST, String(id));
    expect(await answer(t, 2)).toContain('Only the care managers');
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    expect(await rowsHolding(t, SECRET.words)).toEqual(['messages.text']);
  });

  it('refuses a submission naming another case than the modal was opened for, or from someone else', async () => {
    const t = carebot();
    people(t);
    const a = await caseIdOf(t, theirs(1, 1));
    const b = await caseIdOf(t, someoneElse);
    const viewId = await openModal(t, MANAGER, a);
    const tampered = await submit(t, MANAGER, viewId, String(b));
    expect(tampered.body).toContain('does not match the case');
    const huge = await submit(t, MANAGER, viewId, '9'.repeat(3000));
    expect(huge.body).toContain('does not match the case');
    const unknownView = await submit(t, MANAGER, 'VUNKNOWN0000', String(a));
    expect(unknownView.body).toContain('does not match the case');
    // An agent replaying the manager's view id is refused by the policy first.
    const agent = await submit(t, AGENT, viewId, String(a));
    expect(agent.body).toContain('Only the care managers');
    const guest = await submit(t, GUEST, viewId, String(a));
    expect(guest.body).toContain('Only the care managers');
    expect(await rowsHolding(t, SECRET.words)).toEqual(['messages.text']);
    expect(await rowsHolding(t, 'OTHERWORDS')).toEqual(['messages.text']);
    const forgotten = await t.db.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.type, 'customer_forgotten'));
    expect(forgotten).toEqual([]);
  });

  it('answers clearly for no such case, a word, and a huge argument', async () => {
    const t = carebot();
    people(t);
    await forgetCommand(t, MANAGER, '99999');
    expect(await answer(t, 1)).toContain('There is no case #99999');
    await forgetCommand(t, MANAGER, 'abc');
    expect(await answer(t, 2)).toContain('`abc` is not a case number');
    await forgetCommand(t, MANAGER, 'x'.repeat(3000));
    const huge = await answer(t, 3);
    expect(huge).toContain('is not a case number');
    expect(huge.length).toBeLessThan(400);
    await forgetCommand(t, MANAGER, '');
    expect(await answer(t, 4)).toContain('/care forget <case number>');
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
  });

  it('forgets a customer with 50 cases in one go (timed)', async () => {
    const t = carebot();
    const ids: number[] = [];
    for (let i = 1; i <= 50; i++) {
      ids.push(await caseIdOf(t, theirs(1, i)));
      ids.push(await caseIdOf(t, theirs(2, i)));
    }
    await sync(t);
    const started = performance.now();
    const result = await forgetCustomer(t.db.db, t.clock, { caseId: ids[0] as number, actor: MANAGER });
    const ms = performance.now() - started;
    console.log(`forget of a customer with 50 cases (100 messages): ${ms.toFixed(0)} ms`);
    expect(result).toMatchObject({ kind: 'forgotten' });
    expect(result.kind === 'forgotten' && result.caseIds).toHaveLength(50);
    t.slack.calls.length = 0;
    const syncStarted = performance.now();
    await sync(t);
    console.log(
      `Slack updates after it (50 cards, 50 thread messages): ${(performance.now() - syncStarted).toFixed(0)} ms`,
    );
    expect(t.slack.callsTo('chat.update')).toHaveLength(100);
    expect(await rowsHolding(t, SECRET.words)).toEqual([]);
  });
});

describe('retention.customer_text', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  const DAY = 86_400_000;

  it('is off by default', () => {
    expect(carebot().config.retention.customerText).toBeNull();
  });

  it('erases resolved cases older than the duration in one run, not newer or open ones', async () => {
    const t = carebot();
    const old = await caseIdOf(t, theirs(1, 1));
    const recent = await caseIdOf(t, theirs(1, 2));
    const open = await caseIdOf(t, theirs(1, 3));
    // The sync each stored complaint kicked must be done first: while it holds a case's row, the
    // retention's `skip locked` passes that case over until the next night.
    await sync(t);
    const resolve = (id: number, daysAgo: number) =>
      t.db.db
        .update(cases)
        .set({ status: 'resolved', resolvedAt: new Date(t.clock.now().getTime() - daysAgo * DAY) })
        .where(eq(cases.id, id));
    await resolve(old, 401);
    await resolve(recent, 399);
    await t.db.db
      .update(cases)
      .set({ openedAt: new Date(t.clock.now().getTime() - 500 * DAY) })
      .where(eq(cases.id, open));
    const job = new Retention({
      db: t.db.db,
      clock: t.clock,
      logger: createLogger('silent'),
      customerText: hours(400 * 24),
      timezone: 'UTC',
      onChange: () => {},
      batchSize: 1,
    });
    expect(await job.runOnce()).toBe(1);
    const texts = async (id: number) =>
      (
        await t.db.db
          .select()
          .from(messages)
          .where(and(eq(messages.caseId, id)))
      ).map((m) => m.text);
    expect(await texts(old)).toEqual([REMOVED_TEXT]);
    expect((await texts(recent))[0]).toContain(SECRET.words);
    expect((await texts(open))[0]).toContain(SECRET.words);
    const [event] = await t.db.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.type, 'customer_text_expired'));
    expect(event).toMatchObject({ caseId: old, actor: 'carebot' });
    // Already erased: the next night finds nothing to do.
    expect(await job.runOnce()).toBe(0);
  });
});
