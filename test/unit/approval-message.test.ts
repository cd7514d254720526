import { describe, expect, it } from 'vitest';
import type { ReplyRow } from '../../src/care/records.js';
import { approvalMessage, quoteInSections } from '../../src/slack/approval.js';
import { LIMITS } from '../../src/slack/limits.js';

const reply = (text: string, status: ReplyRow['status'] = 'awaiting_approval'): ReplyRow =>
  ({ id: 7, caseId: 1, authorId: 'U0TRAINEE1', text, status, reviewedBy: null }) as ReplyRow;

describe('the approval message', () => {
  it('quotes a draft that escapes past every section limit, cut and marked, never inside an entity', () => {
    const sections = quoteInSections('&'.repeat(10_000));
    expect(sections).toHaveLength(12);
    for (const s of sections) {
      expect(s.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect(s.replace(/\n_\(.*\)_$/, '')).toMatch(/^>(&amp;)+…?$/);
    }
    expect(sections.at(-1)).toMatch(/more characters not shown/);
  });

  it('keeps a grapheme whole across a section boundary', () => {
    const family = '👨‍👩‍👧‍👦';
    const sections = quoteInSections(family.repeat(1_000));
    expect(sections.length).toBeGreaterThan(1);
    for (const s of sections) expect(s.slice(1).replaceAll(family, '')).toBe('');
  });

  it('flags a second draft, and shows the outcome instead of the buttons once decided', () => {
    const request = {
      replyId: 7,
      approversUsergroup: 'S0APPR0001',
      findings: ['Sounds like selling: "promo code".'],
    };
    const waiting = JSON.stringify(
      approvalMessage({ request, reply: reply('Hi <!here>'), where: 'X', waiting: 2 }),
    );
    expect(waiting).toContain('2 drafts waiting for approval in this case');
    expect(waiting).toContain('<!subteam^S0APPR0001>');
    expect(waiting).toContain('Hi &lt;!here&gt;');
    expect(waiting).toContain('Tone check');
    expect(waiting).toContain('reply_approve');
    const decided = JSON.stringify(
      approvalMessage({
        request,
        reply: { ...reply('Hi', 'rejected'), reviewedBy: 'U0APPROVE1' },
        where: 'X',
        waiting: 1,
      }),
    );
    expect(decided).toContain('Rejected by <@U0APPROVE1>');
    expect(decided).not.toContain('reply_approve');
    expect(decided).not.toContain('subteam');
    expect(decided).not.toContain('drafts waiting');
  });
});
