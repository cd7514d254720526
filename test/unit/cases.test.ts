import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { calendarFrom } from '../../src/care/business-hours.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { resolveCase } from '../../src/care/case-lifecycle.js';
import { claimCase, unclaimCase } from '../../src/care/case-ownership.js';
import { hours, minutes } from '../../src/care/clock.js';
import { escalateCase } from '../../src/care/escalations.js';
import type { InboundMessage } from '../../src/care/inbound.js';
import type { EscalationRule } from '../../src/care/priority.js';
import { openingDeadlines, type SlaSettings } from '../../src/care/sla.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { caseEvents, cases, messages, slackOutbox } from '../../src/db/schema.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase } from '../support/database.js';

const message = (over: Partial<InboundMessage> = {}): InboundMessage => ({
  sourceKey: 'webhook:forum',
  platform: 'webhook',
  externalId: 'msg-1',
  conversationId: 't-9',
  author: { id: 'u1', name: 'Jane Doe', handle: 'jane' },
  text: 'My order never arrived',
  sentAt: new Date('2026-11-23T09:59:00Z'),
  channelId: 'CCARE',
  ...over,
});

const HOUR = 3_600_000;
const sla: SlaSettings = {
  calendar: calendarFrom({ timezone: 'UTC', businessHours: 'always' }),
  firstResponseMs: HOUR,
  nextResponseMs: HOUR,
  resolutionMs: 8 * HOUR,
  unclaimedAfterMs: null,
  responseWarnings: [50, 80],
  resolutionWarningsMs: [],
  remindOutsideHours: false,
  lateAfterMs: 5 * 60_000,
  priorities: { P1: { firstResponseMs: 15 * 60_000 } },
};
const rules = [{ when: 'followers', over: 10_000, team: 'pr', priority: 'P1' }] as EscalationRule[];

describe('cases', () => {
  let handle: DatabaseHandle;
  const clock = new ManualClock();
  beforeEach(async () => {
    handle = await createTestDatabase();
  });
  afterEach(async () => {
    await handle.close();
  });

  it('opens a case for a new conversation and joins it with a follow-up', async () => {
    const first = await recordInbound(handle.db, clock, message());
    expect(first).toMatchObject({ duplicate: false, opened: true });
    const follow = await recordInbound(
      handle.db,
      clock,
      message({ externalId: 'msg-2', text: 'Still nothing' }),
    );
    expect(follow).toMatchObject({ caseId: first.caseId, duplicate: false, opened: false });
    const outbox = await handle.db.select().from(slackOutbox);
    expect(outbox.map((o) => o.key)).toEqual([`message:${follow.messageId}`]);
    const other = await recordInbound(
      handle.db,
      clock,
      message({ externalId: 'msg-3', conversationId: 't-10' }),
    );
    expect(other.caseId).not.toBe(first.caseId);
  });

  it('treats the same message again as a duplicate of its case', async () => {
    const first = await recordInbound(handle.db, clock, message());
    const again = await recordInbound(handle.db, clock, message());
    expect(again).toEqual({
      caseId: first.caseId,
      messageId: first.messageId,
      duplicate: true,
      opened: false,
    });
    expect(await handle.db.select().from(messages)).toHaveLength(1);
  });

  it('keeps one message and one case when the same message arrives concurrently', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => recordInbound(handle.db, clock, message())),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
    expect(await handle.db.select().from(cases)).toHaveLength(1);
    expect(await handle.db.select().from(messages)).toHaveLength(1);
  });

  it('lets the first claimer own the case and tells the second who owns it', async () => {
    const { caseId } = await recordInbound(handle.db, clock, message());
    expect((await claimCase(handle.db, clock, caseId, 'UAGENT1')).kind).toBe('claimed');
    expect(await claimCase(handle.db, clock, caseId, 'UAGENT2')).toEqual({
      kind: 'owned_by_other',
      ownerId: 'UAGENT1',
    });
    expect((await claimCase(handle.db, clock, caseId, 'UAGENT1')).kind).toBe('already_owner');
    expect(await unclaimCase(handle.db, clock, caseId, 'UAGENT2')).toEqual({
      kind: 'not_owner',
      ownerId: 'UAGENT1',
    });
    expect((await unclaimCase(handle.db, clock, caseId, 'UAGENT1')).kind).toBe('unclaimed');
    expect((await claimCase(handle.db, clock, caseId, 'UAGENT2')).kind).toBe('claimed');
    const events = await handle.db.select().from(caseEvents).orderBy(caseEvents.id);
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['opened', 'customer'],
      ['claimed', 'UAGENT1'],
      ['unclaimed', 'UAGENT1'],
      ['claimed', 'UAGENT2'],
    ]);
  });

  it('records an escalation with its thread mention queued', async () => {
    const { caseId } = await recordInbound(handle.db, clock, message());
    const result = await escalateCase(handle.db, clock, {
      caseId,
      teamKey: 'pr',
      note: 'Influencer',
      userId: 'U1',
    });
    expect(result.kind).toBe('escalated');
    const outbox = await handle.db.select().from(slackOutbox);
    expect(outbox).toMatchObject([{ caseId, kind: 'escalation' }]);
    expect(
      await escalateCase(handle.db, clock, { caseId: 999, teamKey: 'pr', note: '', userId: 'U1' }),
    ).toEqual({
      kind: 'not_found',
    });
  });

  it('opens a new conversation with its priority, deadlines and first events in place', async () => {
    clock.set(new Date('2026-11-23T10:00:00Z'));
    const opened = await recordInbound(
      handle.db,
      clock,
      message({ author: { id: 'u1', followers: 250_000 } }),
      { sla, rules },
    );
    expect(opened).toMatchObject({ duplicate: false, opened: true });
    const [row] = await handle.db.select().from(cases).where(eq(cases.id, opened.caseId));
    const due = openingDeadlines(clock.now(), sla, 'P1');
    expect(row).toMatchObject({
      priority: 'P1',
      firstResponseDueAt: due.firstResponseDueAt,
      resolutionDueAt: due.resolutionDueAt,
      slaNextCheckAt: clock.now(),
      previousCaseId: null,
    });
    expect(row?.priorityReasons).toHaveLength(2);
    const events = await handle.db.select().from(caseEvents).orderBy(caseEvents.id);
    expect(events.map((e) => e.type)).toEqual(['opened', 'priority_set', 'sla_started', 'escalated']);
    expect(events[0]?.data).toEqual({ messageId: opened.messageId, externalId: 'msg-1' });
    expect(events[1]?.data).toMatchObject({ priority: 'P1' });
    expect(events[2]?.data).toEqual({
      clocks: ['first_response', 'resolution'],
      firstResponseDueAt: due.firstResponseDueAt.toISOString(),
      resolutionDueAt: due.resolutionDueAt.toISOString(),
    });
  });

  it('links a new case to the long-resolved one before it and reopens a recent one', async () => {
    clock.set(new Date('2026-11-23T10:00:00Z'));
    const first = await recordInbound(handle.db, clock, message(), { sla, reopenWithin: hours(1) });
    await resolveCase(handle.db, clock, first.caseId, 'UAGENT1');
    clock.advance(minutes(30));
    const reopened = await recordInbound(handle.db, clock, message({ externalId: 'msg-2' }), {
      sla,
      reopenWithin: hours(1),
    });
    expect(reopened).toMatchObject({ caseId: first.caseId, opened: false });
    await resolveCase(handle.db, clock, first.caseId, 'UAGENT1');
    clock.advance(hours(2));
    const later = await recordInbound(handle.db, clock, message({ externalId: 'msg-3' }), {
      sla,
      reopenWithin: hours(1),
    });
    expect(later.opened).toBe(true);
    expect(later.caseId).not.toBe(first.caseId);
    const [row] = await handle.db.select().from(cases).where(eq(cases.id, later.caseId));
    expect(row?.previousCaseId).toBe(first.caseId);
    const [openedEvent] = await handle.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.caseId, later.caseId))
      .orderBy(caseEvents.id);
    expect(openedEvent?.data).toMatchObject({ previousCaseId: first.caseId });
  });

  it('stores every message of a conversation that arrives all at once on one case', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => recordInbound(handle.db, clock, message({ externalId: `m-${i}` }))),
    );
    expect(new Set(results.map((r) => r.caseId)).size).toBe(1);
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    expect(await handle.db.select().from(cases)).toHaveLength(1);
    expect(await handle.db.select().from(messages)).toHaveLength(8);
  });

  it('reports a message id seen before under another conversation as a duplicate, opening nothing', async () => {
    const first = await recordInbound(handle.db, clock, message());
    const again = await recordInbound(handle.db, clock, message({ conversationId: 'elsewhere' }));
    expect(again).toMatchObject({ caseId: first.caseId, duplicate: true });
    expect(await handle.db.select().from(cases)).toHaveLength(1);
    expect(await handle.db.select().from(caseEvents)).toHaveLength(1);
  });

  it('stores what PostgreSQL could not hold: NULs dropped, lone surrogates as U+FFFD', async () => {
    const nul = String.fromCharCode(0);
    const { caseId } = await recordInbound(
      handle.db,
      clock,
      message({
        externalId: `m${nul}9`,
        text: `Broken \uD800 order${nul}`,
        author: { id: 'u1', name: 'Ja\uDC00ne' },
      }),
    );
    const [stored] = await handle.db.select().from(messages).where(eq(messages.caseId, caseId));
    expect(stored).toMatchObject({ externalId: 'm9', text: 'Broken \uFFFD order', authorName: 'Ja\uFFFDne' });
  });
});
