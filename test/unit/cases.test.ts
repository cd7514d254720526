import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimCase, escalateCase, recordInbound, unclaimCase } from '../../src/care/cases.js';
import type { InboundMessage } from '../../src/care/inbound.js';
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
});
