import { describe, expect, it } from 'vitest';
import { fillTemplate, TEMPLATE_VARIABLES } from '../../src/care/saved-replies.js';
import { type CaseExportRow, casesCsv } from '../../src/care/stats-export.js';

const values = {
  first_name: 'Jane',
  name: 'Jane Doe',
  handle: '@jane',
  agent_name: 'Sam',
  case_id: '42',
};

describe('saved-reply templates', () => {
  it('fills every documented variable', () => {
    const text = TEMPLATE_VARIABLES.map((v) => `{${v}}`).join('|');
    expect(fillTemplate(text, values)).toBe('Jane|Jane Doe|@jane|Sam|42');
  });

  it('leaves anything else as written, inherited properties included', () => {
    const text = 'Hi {first_name} {constructor} {__proto__} {hasownproperty} {to_string} {valueof} {nope}';
    expect(fillTemplate(text, values)).toBe(
      'Hi Jane {constructor} {__proto__} {hasownproperty} {to_string} {valueof} {nope}',
    );
    // Extra properties on the values object are not variables either.
    expect(fillTemplate('{secret}', { ...values, secret: 'x' } as typeof values)).toBe('{secret}');
  });
});

describe('CSV export', () => {
  const row = (over: Partial<CaseExportRow>): CaseExportRow => ({
    id: 1,
    platform: 'webhook',
    sourceKey: 'webhook:forum',
    openedAt: new Date('2026-11-23T10:00:00Z'),
    ownerId: null,
    priority: 'P2',
    firstResponseAt: null,
    firstResponseMinutes: null,
    withinSla: null,
    resolvedAt: null,
    breaches: 0,
    csat: null,
    ...over,
  });

  it('neutralises cells a spreadsheet would run as formulas', () => {
    const hostile = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1'];
    const lines = casesCsv(
      hostile.map((sourceKey, i) => row({ id: i + 1, sourceKey })),
      'UTC',
    ).split('\r\n');
    const sources = lines.slice(1, -1).map((l) => l.split(',')[2]);
    expect(sources[0]).toBe('"\'=HYPERLINK(""http://evil.example""');
    expect(sources.slice(1, 4)).toEqual(["'+1+1", "'-2+3", "'@SUM(A1)"]);
    expect(sources[4]).toBe("'\t=1");
    expect(sources[5]).toBe('"\'\r=1"');
    // Ordinary cells are untouched.
    expect(lines[1]?.startsWith('1,webhook,')).toBe(true);
  });
});
