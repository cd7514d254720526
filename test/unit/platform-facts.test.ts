import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordInbound } from '../../src/care/case-inbound.js';
import { loadCaseView } from '../../src/care/case-view.js';
import { type InboundMessage, starFact } from '../../src/care/inbound.js';
import { type LengthRule, registerPlatforms } from '../../src/care/platforms.js';
import { assess } from '../../src/care/priority.js';
import { checkTone, lengthLimit, toneRules } from '../../src/care/tone.js';
import { priorityByRating, ratingPriority } from '../../src/config/fields.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { caseCard, customerMessage } from '../../src/slack/case-card.js';
import { sentMessage } from '../../src/slack/replies.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase } from '../support/database.js';

// What a source may tell care besides the text: facts the card shows (a review's stars, its app
// version), the least priority it asks for, a length limit learned at run time, and a note on
// what the platform did with a reply.

const review = (over: Partial<InboundMessage> = {}): InboundMessage => ({
  sourceKey: 'webhook:reviews',
  platform: 'webhook',
  externalId: 'r-1',
  conversationId: 'r-1',
  author: { id: 'u1', name: 'Jane' },
  text: 'Crashes when I open it',
  sentAt: new Date('2026-11-23T09:59:00Z'),
  channelId: 'CCARE',
  facts: [starFact(1), 'app 4.2.1', '<!channel> Pixel 7', ''],
  priority: { at: 'P2', reason: '1-star review' },
  ...over,
});

const allText = (m: { text?: string; blocks?: unknown }) =>
  `${m.text ?? ''}${JSON.stringify(m.blocks ?? [])}`;

describe('platform facts on cases', () => {
  let handle: DatabaseHandle;
  const clock = new ManualClock();
  beforeEach(async () => {
    handle = await createTestDatabase();
  });
  afterEach(async () => {
    await handle.close();
  });

  it('stores the facts of each message, at most six and each cut to 80 characters', async () => {
    const opened = await recordInbound(handle.db, clock, review(), { rules: [] });
    const follow = await recordInbound(
      handle.db,
      clock,
      review({
        externalId: 'r-1:2',
        facts: [starFact(4), ...Array.from({ length: 9 }, () => 'x'.repeat(500))],
      }),
      { rules: [] },
    );
    expect(follow.caseId).toBe(opened.caseId);
    const rows = await handle.db.select().from(messages).orderBy(messages.id);
    expect(rows[0]?.facts).toEqual(['★☆☆☆☆ 1 of 5', 'app 4.2.1', '<!channel> Pixel 7']);
    expect(rows[1]?.facts).toHaveLength(6);
    expect(rows[1]?.facts?.[0]).toBe('★★★★☆ 4 of 5');
    expect(Array.from(rows[1]?.facts?.[1] ?? '')).toHaveLength(80);
  });

  it('raises the priority to what the source asks for and says why', async () => {
    const opened = await recordInbound(handle.db, clock, review(), { rules: [] });
    const [row] = await handle.db.select().from(cases).where(eq(cases.id, opened.caseId));
    expect(row?.priority).toBe('P2');
    expect(row?.priorityReasons).toContain('1-star review');
    const calm = await recordInbound(
      handle.db,
      clock,
      review({ externalId: 'r-2', conversationId: 'r-2', priority: undefined }),
      { rules: [] },
    );
    const [other] = await handle.db.select().from(cases).where(eq(cases.id, calm.caseId));
    expect(other?.priority).toBe('P3');
  });

  it('shows the facts on the card and with a follow-up in the thread, escaped', async () => {
    const opened = await recordInbound(handle.db, clock, review(), { rules: [] });
    const view = await loadCaseView(handle.db, opened.caseId);
    if (!view) throw new Error('no view');
    const card = allText(caseCard(view, []));
    expect(card).toContain('★☆☆☆☆ 1 of 5');
    expect(card).toContain('app 4.2.1');
    expect(card).toContain('&lt;!channel&gt; Pixel 7');
    expect(card).not.toContain('<!channel>');
    const followUp = allText(
      customerMessage({
        authorName: 'Jane',
        authorHandle: null,
        authorId: 'u1',
        text: 'Updated my review',
        url: null,
        facts: [starFact(3), 'edited review: was 1★'],
      }),
    );
    expect(followUp).toContain('★★★☆☆ 3 of 5');
    expect(followUp).toContain('edited review: was 1★');
  });
});

describe('source hints', () => {
  it('takes the higher of the assessment and the floor', () => {
    expect(assess({ text: 'fine', floor: { at: 'P1', reason: 'why' } }, []).priority).toBe('P1');
    const angry = assess({ text: 'fine', followers: 200_000, floor: { at: 'P2', reason: 'r' } }, []);
    expect(angry.priority).toBe('P1');
    expect(angry.reasons).not.toContain('r');
  });

  it('reads priority_by_rating', () => {
    const map = priorityByRating.parse(undefined);
    expect(ratingPriority(map, 1)).toEqual({ at: 'P2', reason: '1-star review' });
    expect(ratingPriority(map, 3)).toBeUndefined();
    expect(ratingPriority(priorityByRating.parse({ 1: 'P1' }), 1)?.at).toBe('P1');
    expect(priorityByRating.safeParse({ 6: 'P1' }).success).toBe(false);
    expect(priorityByRating.safeParse({ 1: 'P0' }).success).toBe(false);
  });

  it('draws stars', () => {
    expect(starFact(2)).toBe('★★☆☆☆ 2 of 5');
    expect(starFact(9)).toBe('★★★★★ 5 of 5');
  });

  it('reads a platform limit at each check, so one learned at run time counts', () => {
    let learned = 500;
    const rule: LengthRule = {
      target: 'learning_test',
      name: 'Learning',
      get limit() {
        return learned;
      },
    };
    registerPlatforms([
      {
        platform: 'learning_test',
        label: 'Learning',
        capabilities: { reply: true, directMessage: false, privateReply: false, edit: false, delete: false },
        length: { public: rule },
      },
    ]);
    const rules = toneRules({
      max_length: {},
      extra_selling: [],
      extra_jargon: [],
      extra_arguing: [],
    } as never);
    expect(lengthLimit('learning_test', rules)).toBe(500);
    expect(checkTone('a'.repeat(600), 'learning_test', rules).map((f) => f.rule)).toEqual(['length']);
    learned = 1000;
    expect(checkTone('a'.repeat(600), 'learning_test', rules)).toEqual([]);
    const configured = toneRules({
      max_length: { learning_test: 100 },
      extra_selling: [],
      extra_jargon: [],
      extra_arguing: [],
    } as never);
    expect(lengthLimit('learning_test', configured)).toBe(100);
  });

  it('says in the thread what the platform did besides sending', () => {
    const sent = allText(
      sentMessage(
        {
          id: 1,
          caseId: 1,
          authorId: 'U0AGENT001',
          text: 'Sorry about that',
          slackTs: '1.2',
          externalUrl: null,
          deliveryNote: 'Replaced the earlier response on the <!here> App Store.',
        } as never,
        'App Store',
      ),
    );
    expect(sent).toContain('Replaced the earlier response on the &lt;!here&gt; App Store.');
  });
});
