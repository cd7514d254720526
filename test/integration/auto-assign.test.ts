import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { asc, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { loadConfig } from '../../src/config.js';
import { caseEvents, cases } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { type Carebot, startCarebot } from '../../src/main.js';
import {
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const CARE_TEAM = 'S0CARE0001';
const SHIFT = 'S0SHIFT001';
const ALICE = 'U0ALICE001';
const BOB = 'U0BOB00001';
const CARL = 'U0CARL0001';
/** In the care team's group, and never assigned: a guest, and someone of another organisation. */
const GUEST = 'U0AAGUEST1';
const OUTSIDER = 'U0ABOTHER1';

function configFile(extra: string[] = []): string {
  const path = join(mkdtempSync(join(tmpdir(), 'carebot-assign-')), 'carebot.config.yaml');
  writeFileSync(
    path,
    [
      `care_team_usergroup: ${CARE_TEAM}`,
      'assignment:',
      '  mode: round_robin',
      '  after: 5m',
      '  max_open_per_agent: 2',
      ...extra,
      'escalation:',
      '  rules:',
      '    - { when: keywords, keywords: [lawyer], priority: P1 }',
    ].join('\n'),
  );
  return path;
}

/** The assignment job of this carebot (round_robin is on in every config here). */
function job(c: Carebot) {
  if (!c.autoAssign) throw new Error('expected assignment to be on');
  return c.autoAssign;
}

/** One round, after the one an incoming case kicked has finished. */
async function round(t: TestCarebot, c: Carebot = t.carebot) {
  await job(c).idle();
  return job(c).runOnce();
}

let n = 0;
async function newCase(t: TestCarebot, text = 'My order never arrived'): Promise<number> {
  n += 1;
  const res = await postWebhook(t, complaint({ id: `m-${n}`, conversationId: `conv-${n}`, text }));
  expect(res.status).toBe(202);
  await job(t.carebot).idle();
  return res.json.caseId as number;
}

async function caseRow(t: TestCarebot, id: number) {
  const [row] = await t.db.db.select().from(cases).where(eq(cases.id, id));
  if (!row) throw new Error(`no case ${id}`);
  return row;
}

const owners = async (t: TestCarebot) =>
  (await t.db.db.select().from(cases).orderBy(asc(cases.id))).map((c) => c.ownerId);

const channelPosts = (t: TestCarebot) =>
  t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.ok && c.params.thread_ts === undefined && c.params.channel === CARE_CHANNEL);

const nobodyNotices = (t: TestCarebot) =>
  channelPosts(t).filter((c) => String(c.params.text).includes('Nobody on the care team can take a case'));

const threadPosts = (t: TestCarebot, ts: string) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.ok && c.params.thread_ts === ts);

/** Another carebot process on the same database and fake Slack (a restart, or a second instance). */
async function anotherCarebot(t: TestCarebot, configPath: string): Promise<Carebot> {
  const config = loadConfig({
    SLACK_BOT_TOKEN: t.config.slack.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: t.slack.url,
    CARE_CHANNEL_ID: CARE_CHANNEL,
    CARE_CONFIG: configPath,
    PORT: '0',
  });
  return startCarebot({
    config,
    clock: t.clock,
    database: t.db,
    logger: createLogger('silent', new Writable({ write: (_c, _e, done) => done() })),
    schedule: false,
  });
}

/**
 * The care team, the same in every test (carebot caches user groups for minutes of wall-clock
 * time); tests change who is available through presence and status instead.
 */
function team(t: TestCarebot) {
  t.slack.users.set(GUEST, { id: GUEST, name: 'guest', is_restricted: true });
  t.slack.users.set(OUTSIDER, { id: OUTSIDER, name: 'outsider', team_id: 'T0OTHERORG' });
  t.slack.usergroupMembers.set(CARE_TEAM, [CARL, BOB, ALICE, GUEST, OUTSIDER]);
}

/**
 * Each test starts a day after the previous one: presence, status and rate limits are cached by
 * carebot's clock, which the shared setup sets back to the same morning before every test.
 */
let day = 0;
function nextDay(t: TestCarebot) {
  day += 1;
  t.clock.set(new Date(Date.UTC(2026, 11, 1, 10) + day * 86_400_000));
}

describe('auto-assignment (round robin)', () => {
  const configPath = configFile();
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  beforeEach(() => nextDay(carebot()));

  it('assigns an unclaimed case after the wait, tells the thread and updates the card', async () => {
    const t = carebot();
    team(t);
    const id = await newCase(t);
    await sync(t);
    const ts = tsOf(t.slack.callsTo('chat.postMessage')[0]);

    t.clock.advance(minutes(4));
    expect((await round(t)).assigned).toBe(0);
    expect((await caseRow(t, id)).ownerId).toBeNull();

    t.clock.advance(minutes(1));
    expect((await round(t)).assigned).toBe(1);
    const row = await caseRow(t, id);
    expect(row.ownerId).toBe(ALICE);
    expect(row.autoAssignedAt).toEqual(t.clock.now());
    await sync(t);
    const told = threadPosts(t, ts).map((c) => String(c.params.text));
    expect(told).toContainEqual(
      expect.stringContaining(`Assigned to <@${ALICE}> automatically (round robin)`),
    );
    expect(told.join('\n')).toContain('Unclaim to hand it back');
    const update = t.slack.callsTo('chat.update').at(-1);
    expect(JSON.stringify(update?.params.blocks)).toContain(`Claimed by <@${ALICE}>`);
    // Presence and status were asked for Alice only: she was available.
    expect(t.slack.callsTo('users.getPresence').map((c) => c.params.user)).toEqual([ALICE]);
    expect(t.slack.callsTo('users.profile.get').map((c) => c.params.user)).toEqual([ALICE]);
    const events = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'auto_assigned'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ caseId: id, actor: 'carebot', data: { ownerId: ALICE } });
  });

  it('assigns a P1 case at once, without the wait', async () => {
    const t = carebot();
    team(t);
    const id = await newCase(t, 'My lawyer will hear about this order');
    expect((await caseRow(t, id)).priority).toBe('P1');
    // The incoming case kicked a round: no clock moved.
    expect((await caseRow(t, id)).ownerId).toBe(ALICE);
    const other = await newCase(t);
    expect((await caseRow(t, other)).ownerId).toBeNull();
  });

  it('skips people who are away, in an away status, or at capacity', async () => {
    const t = carebot();
    team(t);
    t.slack.presence.set(ALICE, 'away');
    t.slack.statuses.set(BOB, { emoji: ':palm_tree:', text: 'Holiday' });
    t.slack.statuses.set(CARL, { emoji: ':coffee:', text: 'Coffee' });
    const first = await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    expect((await caseRow(t, first)).ownerId).toBe(CARL);

    // Bob's holiday ended an hour ago (Slack had not cleared it yet): he is back.
    t.slack.statuses.set(BOB, {
      emoji: ':palm_tree:',
      expiration: Math.floor(t.clock.now().getTime() / 1000) - 3600,
    });
    const second = await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    expect((await caseRow(t, second)).ownerId).toBe(BOB);

    // Carl's turn, but he owns two open cases (the cap): Alice, back at her desk, gets it.
    const taken = await newCase(t);
    await t.db.db.update(cases).set({ ownerId: CARL }).where(eq(cases.id, taken));
    t.slack.presence.set(ALICE, 'active');
    t.slack.presence.set(BOB, 'away');
    const third = await newCase(t);
    t.clock.advance(minutes(5));
    const carlAsked = t.slack.callsTo('users.getPresence').filter((c) => c.params.user === CARL).length;
    await round(t);
    expect((await caseRow(t, third)).ownerId).toBe(ALICE);
    // At capacity is known from the database: Slack was not asked about Carl.
    expect(t.slack.callsTo('users.getPresence').filter((c) => c.params.user === CARL)).toHaveLength(
      carlAsked,
    );
  });

  it('goes round in order, and carries on after a restart where it left off', async () => {
    const t = carebot();
    team(t);
    for (let i = 0; i < 3; i += 1) await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    expect(await owners(t)).toEqual([ALICE, BOB, CARL]);

    await newCase(t);
    await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    expect(await owners(t)).toEqual([ALICE, BOB, CARL, ALICE, BOB]);

    const restarted = await anotherCarebot(t, configPath);
    try {
      await newCase(t);
      t.clock.advance(minutes(5));
      await round(t, restarted);
      expect((await owners(t)).at(-1)).toBe(CARL);
    } finally {
      await restarted.stop();
    }
  });

  it('tells the channel once when nobody is available, and again only after someone was', async () => {
    const t = carebot();
    team(t);
    t.slack.presence.set(ALICE, 'away');
    t.slack.presence.set(BOB, 'away');
    t.slack.presence.set(CARL, 'away');
    await newCase(t);
    await newCase(t);
    t.clock.advance(minutes(5));
    const first = await round(t);
    expect(first).toMatchObject({ assigned: 0, told: [CARE_CHANNEL] });
    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(minutes(1));
      await round(t);
    }
    await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    await sync(t);
    expect(nobodyNotices(t)).toHaveLength(1);
    expect(String(nobodyNotices(t)[0]?.params.text)).toContain('2 unclaimed cases wait');
    expect(await owners(t)).toEqual([null, null, null]);

    // Bob is back: the waiting cases are his (up to the cap), the stretch is over.
    t.slack.presence.set(BOB, 'active');
    t.clock.advance(seconds(61));
    await round(t);
    expect(await owners(t)).toEqual([BOB, BOB, null]);

    // Everyone unavailable again: a new stretch, told once more.
    t.clock.advance(minutes(1));
    await round(t);
    t.clock.advance(minutes(1));
    await round(t);
    await sync(t);
    expect(nobodyNotices(t)).toHaveLength(2);
    expect(String(nobodyNotices(t)[1]?.params.text)).toContain('1 unclaimed case waits');
  });

  it('lets the assignee hand the case back with Unclaim, and does not assign it again', async () => {
    const t = carebot();
    team(t);
    const id = await newCase(t);
    await sync(t);
    const ts = tsOf(t.slack.callsTo('chat.postMessage')[0]);
    t.clock.advance(minutes(5));
    await round(t);
    expect((await caseRow(t, id)).ownerId).toBe(ALICE);
    await sync(t);

    const res = await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_unclaim',
        value: String(id),
        userId: ALICE,
        channelId: CARE_CHANNEL,
        messageTs: ts,
      }),
    );
    expect(res.status).toBe(200);
    await t.slack.waitFor('chat.update', 2);
    await sync(t);
    expect((await caseRow(t, id)).ownerId).toBeNull();
    const said = threadPosts(t, ts).map((c) => String(c.params.text));
    expect(said.at(-1)).toContain('does not assign it again');

    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(minutes(10));
      expect((await round(t)).assigned).toBe(0);
    }
    expect((await caseRow(t, id)).ownerId).toBeNull();
    // It is not "waiting for assignment" either: nobody is told that nobody is available.
    await sync(t);
    expect(nobodyNotices(t)).toHaveLength(0);
  });

  it('assigns each case once when two instances run their rounds at the same time', async () => {
    const t = carebot();
    team(t);
    const second = await anotherCarebot(t, configPath);
    try {
      for (let i = 0; i < 5; i += 1) await newCase(t);
      t.clock.advance(minutes(5));
      await job(t.carebot).idle();
      const results = await Promise.all([
        job(t.carebot).runOnce(),
        job(second).runOnce(),
        job(t.carebot).runOnce(),
        job(second).runOnce(),
      ]);
      // Whichever instance holds the round robin does the work; the others find it held or done.
      expect(results.reduce((sum, r) => sum + r.assigned, 0)).toBe(5);
      expect((await round(t)).assigned).toBe(0);
      const events = await t.db.db.select().from(caseEvents).where(eq(caseEvents.type, 'auto_assigned'));
      expect(events).toHaveLength(5);
      expect(new Set(events.map((e) => e.caseId)).size).toBe(5);
      expect(await owners(t)).toEqual([ALICE, BOB, CARL, ALICE, BOB]);
      // Either instance's Slack sync may post them (the one that assigned was kicked).
      await sync({ carebot: second });
      await sync(t);
      const assignedPosts = t.slack
        .callsTo('chat.postMessage')
        .filter((c) => c.ok && String(c.params.text).includes('automatically (round robin)'));
      expect(assignedPosts).toHaveLength(5);
    } finally {
      await second.stop();
    }
  });

  it('does not assign to someone whose presence lookup failed, and loses nothing', async () => {
    const t = carebot();
    team(t);
    const first = await newCase(t);
    t.clock.advance(minutes(5));
    t.slack.failNext('users.getPresence', { error: 'internal_error' });
    await round(t);
    // Alice could not be asked: Bob has it.
    expect((await caseRow(t, first)).ownerId).toBe(BOB);

    // Only Alice is at her desk, and Slack rate-limits: the case waits, nobody is told "nobody".
    t.slack.presence.set(BOB, 'away');
    t.slack.presence.set(CARL, 'away');
    const second = await newCase(t);
    t.clock.advance(minutes(5));
    t.slack.failNext('users.getPresence', { status: 429, retryAfter: 30 });
    expect((await round(t)).assigned).toBe(0);
    const presenceCalls = t.slack.callsTo('users.getPresence').length;
    // Within Retry-After carebot does not call Slack again.
    t.clock.advance(seconds(10));
    expect((await round(t)).assigned).toBe(0);
    expect(t.slack.callsTo('users.getPresence')).toHaveLength(presenceCalls);
    expect((await caseRow(t, second)).ownerId).toBeNull();
    t.clock.advance(seconds(25));
    expect((await round(t)).assigned).toBe(1);
    expect((await caseRow(t, second)).ownerId).toBe(ALICE);
    await sync(t);
    expect(nobodyNotices(t)).toHaveLength(0);
  });

  it('without the users.profile:read scope assigns nobody, and says why once', async () => {
    const t = carebot();
    team(t);
    t.slack.scopes = t.slack.scopes.filter((s) => s !== 'users.profile:read');
    const id = await newCase(t);
    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(minutes(5));
      expect((await round(t)).assigned).toBe(0);
    }
    expect((await caseRow(t, id)).ownerId).toBeNull();
    const said = t.logs.filter((l) => l.includes('cannot look up who is available for auto-assignment'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('missing_scope');
    expect(said[0]).toContain('manifest.yml');
    await sync(t);
    expect(nobodyNotices(t)).toHaveLength(0);
  });

  it('never assigns a guest or someone of another organisation, whatever group they are in', async () => {
    const t = carebot();
    team(t);
    t.slack.presence.set(ALICE, 'away');
    t.slack.presence.set(CARL, 'away');
    for (let i = 0; i < 3; i += 1) await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    expect(await owners(t)).toEqual([BOB, BOB, null]);
    // Neither was even asked whether they are at their desk.
    const asked = t.slack.callsTo('users.getPresence').map((c) => c.params.user);
    expect(asked).not.toContain(GUEST);
    expect(asked).not.toContain(OUTSIDER);
  });
});

describe('auto-assignment with a shift group', () => {
  const carebot = useCarebot({ CARE_CONFIG: configFile([`  shift_usergroup: ${SHIFT}`]) });
  beforeEach(() => nextDay(carebot()));

  it('assigns only people on shift who are also on the care team', async () => {
    const t = carebot();
    team(t);
    t.slack.usergroupMembers.set(SHIFT, [BOB, 'U0ZZNOTCARE']);
    const id = await newCase(t);
    const other = await newCase(t);
    const third = await newCase(t);
    t.clock.advance(minutes(5));
    await round(t);
    expect((await caseRow(t, id)).ownerId).toBe(BOB);
    expect((await caseRow(t, other)).ownerId).toBe(BOB);
    // Bob is at capacity; the other on shift is not care team; Alice and Carl are off shift.
    expect((await caseRow(t, third)).ownerId).toBeNull();
    const asked = t.slack.callsTo('users.getPresence').map((c) => c.params.user);
    expect(asked).toEqual([BOB]);
    // A round that assigned someone does not say "nobody"; the next one, with only that case left, does.
    t.clock.advance(minutes(1));
    await round(t);
    await sync(t);
    expect(nobodyNotices(t)).toHaveLength(1);
  });
});

describe('auto-assignment with the whole workspace as the care team', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'carebot-assign-')), 'carebot.config.yaml');
  writeFileSync(
    path,
    [
      'assignment: { mode: round_robin, after: 1m }',
      'teams:',
      '  - { key: pr, name: PR, users: [U0PRPERSON] }',
    ].join('\n'),
  );
  const carebot = useCarebot({ CARE_CONFIG: path });
  beforeEach(() => nextDay(carebot()));

  it('rotates over the full members of the workspace (users.list), never guests or escalation teams', async () => {
    const t = carebot();
    for (const id of [ALICE, BOB, 'U0PRPERSON']) t.slack.users.set(id, { id, name: id.toLowerCase() });
    t.slack.users.set(GUEST, { id: GUEST, name: 'guest', is_ultra_restricted: true });
    t.slack.users.set(OUTSIDER, { id: OUTSIDER, name: 'outsider', team_id: 'T0OTHERORG' });
    for (let i = 0; i < 4; i += 1) await newCase(t);
    t.clock.advance(minutes(1));
    await round(t);
    expect(await owners(t)).toEqual([ALICE, BOB, ALICE, BOB]);
    expect(t.slack.callsTo('users.list').length).toBeGreaterThan(0);
    const asked = new Set(t.slack.callsTo('users.getPresence').map((c) => c.params.user));
    expect(asked).toEqual(new Set([ALICE, BOB]));
  });
});
