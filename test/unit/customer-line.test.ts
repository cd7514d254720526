import { describe, expect, it } from 'vitest';
import { messageBlockProblems, viewProblems } from '../../emulators/slack/block-kit-check.js';
import type { HistoryEntry } from '../../src/care/customers.js';
import { customerBlocks, earlierCasesText } from '../../src/slack/customer-line.js';
import {
  customerMenuChoice,
  customerNoteModal,
  HISTORY_LIMIT,
  historyModal,
  samePersonModal,
} from '../../src/slack/customers.js';

const at = new Date('2026-11-23T10:00:00Z');
const ago = (ms: number) => new Date(at.getTime() - ms);
const DAY = 86_400_000;
const IDS = { history: 'case_history', samePerson: 'case_same_person' };
const HOSTILE = '<!channel> <@U0BOSS0001> & <https://evil.example|click>';

describe('the card’s earlier-cases line', () => {
  it('says how many, when the last one was, and how it ended', () => {
    expect(earlierCasesText({ count: 3, lastOpenedAt: ago(12 * DAY), lastStatus: 'resolved' }, at)).toBe(
      '3 earlier cases, last 12 days ago (resolved)',
    );
    expect(earlierCasesText({ count: 1, lastOpenedAt: ago(DAY + 5), lastStatus: 'resolved' }, at)).toBe(
      '1 earlier case, 1 day ago (resolved)',
    );
    expect(earlierCasesText({ count: 2, lastOpenedAt: ago(5 * 3_600_000), lastStatus: 'open' }, at)).toBe(
      '2 earlier cases, last 5 hours ago (still open)',
    );
    expect(earlierCasesText({ count: 4, lastOpenedAt: ago(30_000), lastStatus: 'open' }, at)).toBe(
      '4 earlier cases, last a minute ago (still open)',
    );
    expect(earlierCasesText({ count: 2, lastOpenedAt: ago(7 * 60_000), lastStatus: 'open' }, at)).toBe(
      '2 earlier cases, last 7 minutes ago (still open)',
    );
    // Counting stops at 1,000 (a bot's history is not counted on every card).
    expect(earlierCasesText({ count: 1000, lastOpenedAt: ago(2 * DAY), lastStatus: 'resolved' }, at)).toBe(
      '1000+ earlier cases, last 2 days ago (resolved)',
    );
  });

  it('shows VIP, the note escaped and cut, the links, History only when there is one, and the menu', () => {
    const blocks = customerBlocks(
      7,
      at,
      {
        customerId: 1,
        vip: true,
        notes: [`${HOSTILE} ${'&'.repeat(10_000)}`],
        linked: 2,
        earlier: { count: 3, lastOpenedAt: ago(12 * DAY), lastStatus: 'resolved' },
      },
      IDS,
    );
    const json = JSON.stringify(blocks);
    expect(json).toContain(':star: *VIP*');
    expect(json).toContain('3 earlier cases, last 12 days ago (resolved)');
    expect(json).toContain('Same person as 2 other accounts');
    expect(json).toContain('&lt;!channel&gt; &lt;@U0BOSS0001&gt; &amp;');
    expect(json).not.toContain('<!channel>');
    expect(messageBlockProblems(blocks)).toEqual([]);
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['case_history', 'case_same_person']);

    const first = customerBlocks(
      8,
      at,
      { customerId: 2, vip: false, notes: [], linked: 0, earlier: undefined },
      IDS,
    );
    expect(first.map((b) => b.type)).toEqual(['actions']);
    expect(JSON.stringify(first)).not.toContain('case_history');
  });
});

describe('the customer menu and modals', () => {
  it('reads the overflow pick and a plain button', () => {
    expect(customerMenuChoice({ type: 'overflow', selected_option: { value: 'note:12' } })).toEqual({
      item: 'note',
      caseId: 12,
    });
    expect(customerMenuChoice({ type: 'button', value: '12' })).toEqual({ item: 'link', caseId: 12 });
    expect(customerMenuChoice({ type: 'overflow', selected_option: { value: 'drop:12' } })).toBeUndefined();
    expect(customerMenuChoice({ type: 'button', value: '0' })).toBeUndefined();
  });

  it('History fits a modal however many cases and however long their words', () => {
    const entries: HistoryEntry[] = Array.from({ length: 200 }, (_, i) => ({
      caseId: 1000 - i,
      platform: 'x',
      sourceKey: 'x:main',
      status: i % 2 ? 'resolved' : 'open',
      openedAt: ago(i * DAY),
      resolvedAt: i % 2 ? ago(i * DAY - 1000) : null,
      ownerId: i % 3 ? 'U0AGENT001' : null,
      firstWords: `${HOSTILE}${'<'.repeat(10_000)}`,
      thread: { channelId: 'C0CARE0001', threadTs: `1764000000.${String(i).padStart(6, '0')}` },
    }));
    const view = historyModal(
      1001,
      { entries, total: 200 },
      (t) => `https://x.slack.com/archives/${t.channelId}/p1`,
    );
    expect(viewProblems(view as unknown as Record<string, unknown>)).toEqual([]);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(view.blocks.filter((b) => JSON.stringify(b).includes('Case #'))).toHaveLength(HISTORY_LIMIT);
    expect(JSON.stringify(view)).not.toContain('<!channel>');
  });

  it('the link and note modals are valid Block Kit, with hostile names and a full note', () => {
    const linked = Array.from({ length: 14 }, (_, i) => ({
      customerId: i + 2,
      platform: i % 2 ? 'facebook' : 'webhook:forum',
      authorId: `a${i}`,
      authorName: `${HOSTILE}${'N'.repeat(10_000)}`,
      authorHandle: null,
    }));
    expect(viewProblems(samePersonModal(3, linked) as unknown as Record<string, unknown>)).toEqual([]);
    const note = customerNoteModal(3, { note: 'é'.repeat(500), vip: true, linked: 1 });
    expect(viewProblems(note as unknown as Record<string, unknown>)).toEqual([]);
  });
});
