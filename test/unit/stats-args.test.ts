import { describe, expect, it } from 'vitest';
import { statsPeriod } from '../../src/care/stats-period.js';
import { parseStatsArgs, usageText } from '../../src/slack/stats-args.js';

const NOW = new Date('2026-11-23T10:00:00Z'); // a Monday
const parse = (text: string, zone = 'UTC') => parseStatsArgs(text, NOW, zone);

describe('/care-stats arguments', () => {
  it('defaults to the last 7 days, ephemeral, unfiltered', () => {
    expect(parse('')).toEqual({ ok: true, args: { period: { kind: '7d' }, output: 'ephemeral' } });
    expect(parse('   ')).toEqual({ ok: true, args: { period: { kind: '7d' }, output: 'ephemeral' } });
  });

  it.each(['today', 'yesterday', '7d', '30d', 'this-week', 'last-week'])('reads the period %s', (word) => {
    expect(parse(word)).toEqual({ ok: true, args: { period: { kind: word }, output: 'ephemeral' } });
    expect(parse(word.toUpperCase())).toMatchObject({ ok: true, args: { period: { kind: word } } });
  });

  it('reads a date range', () => {
    expect(parse('2026-11-01..2026-11-15')).toEqual({
      ok: true,
      args: { period: { kind: 'range', from: '2026-11-01', to: '2026-11-15' }, output: 'ephemeral' },
    });
  });

  it('refuses ranges that are backwards, impossible, too long or in the future', () => {
    expect(parse('2026-11-15..2026-11-01')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('after'),
    });
    expect(parse('2026-02-30..2026-03-01')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('real date'),
    });
    expect(parse('2024-01-01..2026-01-01')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('366'),
    });
    expect(parse('2026-12-01..2026-12-02')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('future'),
    });
  });

  it('reads platforms, a source name, an agent mention and the output, in any order', () => {
    expect(parse('public <@U0AGENT001|ada> x 30d')).toEqual({
      ok: true,
      args: { period: { kind: '30d' }, platform: 'x', agentId: 'U0AGENT001', output: 'public' },
    });
    for (const p of [
      'facebook',
      'instagram',
      'reddit',
      'rss',
      'webhook',
      'bluesky',
      'mastodon',
      'google_play',
      'app_store',
    ]) {
      expect(parse(p)).toMatchObject({ ok: true, args: { platform: p } });
    }
    expect(parse('twitter')).toMatchObject({ ok: true, args: { platform: 'x' } });
    expect(parse('forum csv')).toEqual({
      ok: true,
      args: { period: { kind: '7d' }, sourceName: 'forum', output: 'csv' },
    });
    expect(parse('<@W0ENTERPRISE>')).toMatchObject({ ok: true, args: { agentId: 'W0ENTERPRISE' } });
  });

  it('says what it did not understand', () => {
    expect(parse('7d 30d')).toEqual({ ok: false, problem: '`30d`: only one period at a time' });
    expect(parse('public csv')).toEqual({ ok: false, problem: '`csv`: only one output at a time' });
    expect(parse('x forum')).toEqual({
      ok: false,
      problem: '`forum`: only one platform or source at a time',
    });
    expect(parse('@ada')).toMatchObject({ ok: false, problem: expect.stringContaining("Slack's @ menu") });
    expect(parse('7d <!channel>')).toEqual({ ok: false, problem: "I don't know `&lt;!channel&gt;`" });
    expect(parse('last?week')).toEqual({ ok: false, problem: "I don't know `last?week`" });
  });

  it('shows the usage with the problem first', () => {
    const text = usageText("I don't know `foo`");
    expect(text.split('\n')[0]).toBe(":thinking_face: I don't know `foo`.");
    expect(text).toContain('`/care-stats [period] [platform or source] [@agent] [public|csv]`');
    expect(usageText()).not.toContain('thinking_face');
  });
});

describe('stats periods', () => {
  const iso = (r: { start: Date; end: Date }) => [r.start.toISOString(), r.end.toISOString()];

  it('counts whole local days, today included, and compares with the same span before', () => {
    const p = statsPeriod({ kind: '7d' }, NOW, 'UTC');
    expect(iso(p.current)).toEqual(['2026-11-17T00:00:00.000Z', '2026-11-23T10:00:00.000Z']);
    expect(iso(p.previous)).toEqual(['2026-11-10T00:00:00.000Z', '2026-11-16T10:00:00.000Z']);
    expect(p.days).toEqual([
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
    ]);
    const month = statsPeriod({ kind: '30d' }, NOW, 'UTC');
    expect(iso(month.current)[0]).toBe('2026-10-25T00:00:00.000Z');
    expect(month.days).toHaveLength(30);
  });

  it('knows today, yesterday and the weeks (Monday first)', () => {
    expect(iso(statsPeriod({ kind: 'today' }, NOW, 'UTC').previous)).toEqual([
      '2026-11-22T00:00:00.000Z',
      '2026-11-22T10:00:00.000Z',
    ]);
    expect(iso(statsPeriod({ kind: 'yesterday' }, NOW, 'UTC').current)).toEqual([
      '2026-11-22T00:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
    ]);
    const thursday = new Date('2026-11-26T15:00:00Z');
    expect(iso(statsPeriod({ kind: 'this-week' }, thursday, 'UTC').current)).toEqual([
      '2026-11-23T00:00:00.000Z',
      '2026-11-26T15:00:00.000Z',
    ]);
    const last = statsPeriod({ kind: 'last-week' }, thursday, 'UTC');
    expect(iso(last.current)).toEqual(['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
    expect(iso(last.previous)).toEqual(['2026-11-09T00:00:00.000Z', '2026-11-16T00:00:00.000Z']);
  });

  it('uses the configured time zone, across daylight-saving changes', () => {
    // Berlin left summer time on Sunday 25 October 2026.
    const p = statsPeriod({ kind: 'last-week' }, new Date('2026-10-28T12:00:00Z'), 'Europe/Berlin');
    expect(iso(p.current)).toEqual(['2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
    expect(iso(p.previous)).toEqual(['2026-10-11T22:00:00.000Z', '2026-10-18T22:00:00.000Z']);
    expect(p.days[p.days.length - 1]).toBe('2026-10-25');
  });

  it('ends a range at the end of its last day, or now if that is sooner', () => {
    const p = statsPeriod({ kind: 'range', from: '2026-11-01', to: '2026-11-15' }, NOW, 'UTC');
    expect(iso(p.current)).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z']);
    expect(iso(p.previous)).toEqual(['2026-10-17T00:00:00.000Z', '2026-11-01T00:00:00.000Z']);
    expect(p.days).toHaveLength(15);
    const open = statsPeriod({ kind: 'range', from: '2026-11-20', to: '2026-11-30' }, NOW, 'UTC');
    expect(iso(open.current)).toEqual(['2026-11-20T00:00:00.000Z', '2026-11-23T10:00:00.000Z']);
    expect(iso(open.previous)[0]).toBe('2026-11-09T00:00:00.000Z');
  });
});
