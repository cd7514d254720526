import { describe, expect, it } from 'vitest';
import { escapeText, link, quote, quoteWithin, truncate } from '../../src/slack/mrkdwn.js';

describe('mrkdwn', () => {
  it('escapes the three control characters, & first', () => {
    expect(escapeText('a & b <!channel> <@U1> > c &amp;')).toBe(
      'a &amp; b &lt;!channel&gt; &lt;@U1&gt; &gt; c &amp;amp;',
    );
  });

  it('quotes every line', () => {
    expect(quote('one\n<!here>')).toBe('>one\n>&lt;!here&gt;');
  });

  it('builds links only from http(s) URLs and keeps the label from closing the link', () => {
    expect(link('javascript:alert(1)', 'x')).toBeUndefined();
    expect(link('not a url', 'x')).toBeUndefined();
    expect(link('https://a.example/p?q=1|2>', 'Jane | <b>')).toBe(
      '<https://a.example/p?q=1%7C2%3E|Jane ¦ &lt;b&gt;>',
    );
  });

  it('truncates by characters, not UTF-16 units', () => {
    expect(truncate('😀😀😀', 2)).toBe('😀…');
    expect(truncate('abc', 3)).toBe('abc');
  });
});

describe('quoteWithin', () => {
  it('keeps escaped, quoted text within the limit, never cutting an entity or a character', () => {
    const out = quoteWithin('&'.repeat(10_000), 2500);
    expect(out.length).toBeLessThanOrEqual(2500);
    expect(out.endsWith('&amp;…')).toBe(true);
    const emoji = quoteWithin('👩‍👩‍👧'.repeat(2000), 300);
    expect(emoji.length).toBeLessThanOrEqual(300);
    expect(emoji).not.toMatch(/[\ud800-\udbff]…$/);
    expect(quoteWithin('a\n<b>', 100)).toBe('>a\n>&lt;b&gt;');
  });
});
