import { describe, expect, it } from 'vitest';
import type { RssFeed } from '../../src/sources/rss/config.js';
import { MAX_ITEM_TEXT } from '../../src/sources/rss/limits.js';
import { type FeedItem, matchesKeywords, normalizeFeedItem } from '../../src/sources/rss/normalize.js';
import { htmlToText } from '../../src/sources/rss/plain-text.js';

const feed: RssFeed = {
  name: 'forum',
  url: 'https://forum.example/feeds/latest.rss',
  allowPrivateNetwork: false,
  keywords: [],
  channel: 'CFORUM',
};
const polledAt = new Date('2026-11-23T10:00:00Z');

const normalize = (item: FeedItem, over: Partial<RssFeed> = {}) =>
  normalizeFeedItem(item, { ...feed, ...over }, polledAt);

const message = (item: FeedItem, over: Partial<RssFeed> = {}) => {
  const result = normalize(item, over);
  if (!result.ok) throw new Error(`expected a message, got: ${result.reason}`);
  return result.message;
};

describe('htmlToText', () => {
  it('drops tags, decodes entities and keeps paragraphs apart', () => {
    const html =
      '<p>Hello&nbsp;<b>world</b> &amp; &lt;friends&gt; &#8212; &#x1F600; &hellip;</p>' +
      '<script>alert("no")</script><style>p { color: red }</style><!-- hidden -->' +
      '<p>Second   line<br/>third&#39;s <a href="https://x.example/?a=1&amp;b=2" title="a>b">link</a></p>' +
      '<ul><li>one</li><li>two</li></ul>';
    expect(htmlToText(html)).toBe(
      "Hello world & <friends> — 😀 …\n\nSecond line\nthird's link\n\n- one\n- two",
    );
  });

  it('keeps a lone "<" and unknown entities as text', () => {
    expect(htmlToText('if a < b &unknown; then &amp;c')).toBe('if a < b &unknown; then &c');
  });

  it('stays fast on unclosed comments, scripts and quotes', () => {
    const hostile = '<!--'.repeat(50_000) + '<script>'.repeat(50_000) + '<a title="'.repeat(50_000);
    const started = performance.now();
    htmlToText(`text ${hostile}`);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('normalizeFeedItem', () => {
  it('turns an RSS item into a message of its own conversation', () => {
    const m = message({
      guid: '  https://forum.example/t/42#p1  ',
      title: 'Order &amp; refund',
      link: 'https://forum.example/t/42',
      content: '<p>I paid &euro;30 and <em>nothing</em> came.</p>',
      creator: 'Jane Doe',
      isoDate: '2026-11-23T09:30:00.000Z',
    });
    expect(m).toEqual({
      sourceKey: 'rss:forum',
      platform: 'rss',
      externalId: 'https://forum.example/t/42#p1',
      conversationId: 'https://forum.example/t/42#p1',
      author: { id: 'Jane Doe', name: 'Jane Doe' },
      text: 'Order & refund\n\nI paid €30 and nothing came.',
      url: 'https://forum.example/t/42',
      sentAt: new Date('2026-11-23T09:30:00Z'),
      channelId: 'CFORUM',
    });
  });

  it('prefers guid, then the Atom id, then the link as the id', () => {
    const link = 'https://forum.example/t/1';
    expect(message({ guid: 'g', id: 'i', link }).externalId).toBe('g');
    // A guid with attributes arrives as an object from the XML parser.
    expect(message({ guid: { _: ' g2 ' } as unknown as string, link }).externalId).toBe('g2');
    expect(message({ id: 'tag:blog.example,2026:7', link }).externalId).toBe('tag:blog.example,2026:7');
    expect(message({ guid: '   ', link }).externalId).toBe(link);
  });

  it('skips an item with no guid, id or link', () => {
    const result = normalize({ title: 'Orphan', content: 'no way to tell it apart' });
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('no guid, id or link') });
  });

  it('keeps only http(s) links and reads relative ones against the feed', () => {
    expect(message({ guid: 'a', link: 'javascript:alert(1)' }).url).toBeUndefined();
    expect(message({ guid: 'b', link: '/t/9' }).url).toBe('https://forum.example/t/9');
    expect(message({ guid: 'c', link: 'http://blog.example/p?id=1' }).url).toBe('http://blog.example/p?id=1');
  });

  it('names the author from dc:creator, Atom author or the RSS email form', () => {
    expect(message({ guid: 'a', author: 'jane@example.com (Jane Doe)' }).author).toEqual({
      id: 'jane@example.com (Jane Doe)',
      name: 'Jane Doe',
    });
    expect(message({ guid: 'b', 'dc:creator': 'sam' }).author).toEqual({ id: 'sam', name: 'sam' });
    expect(message({ guid: 'c' }).author).toEqual({ id: 'unknown' });
  });

  it('falls back to the poll time for a missing, broken or future date', () => {
    expect(message({ guid: 'a' }).sentAt).toEqual(polledAt);
    expect(message({ guid: 'b', pubDate: 'sometime last week' }).sentAt).toEqual(polledAt);
    expect(message({ guid: 'c', pubDate: 'Mon, 23 Nov 2026 09:00:00 GMT' }).sentAt).toEqual(
      new Date('2026-11-23T09:00:00Z'),
    );
    expect(message({ guid: 'd', isoDate: '2027-01-01T00:00:00Z' }).sentAt).toEqual(polledAt);
  });

  it('prefers content:encoded and caps long posts', () => {
    const m = message({
      guid: 'a',
      title: 'Long',
      content: 'short summary',
      'content:encoded': `<p>${'word '.repeat(2000)}</p>`,
    });
    expect(m.text.length).toBe(MAX_ITEM_TEXT);
    expect(m.text.startsWith('Long\n\nword word')).toBe(true);
    expect(m.text.endsWith('…')).toBe(true);
  });

  it('uses the link when an item has neither title nor text', () => {
    expect(message({ guid: 'a', link: 'https://forum.example/t/5' }).text).toBe('https://forum.example/t/5');
  });

  it('applies the feed keywords to the title and the whole text', () => {
    const keywords = ['refund'];
    expect(normalize({ guid: 'a', title: 'Refund please' }, { keywords }).ok).toBe(true);
    expect(
      normalize({ guid: 'b', title: 'Hello', content: '<p>I want a <b>refund</b></p>' }, { keywords }).ok,
    ).toBe(true);
    expect(normalize({ guid: 'c', title: 'Refunded, thanks' }, { keywords })).toEqual({
      ok: false,
      reason: expect.stringContaining('keywords'),
    });
    // Past the cut at MAX_ITEM_TEXT still counts.
    const late = { guid: 'd', title: 'Story', content: `${'blah '.repeat(1500)} refund` };
    expect(normalize(late, { keywords }).ok).toBe(true);
  });
});

describe('matchesKeywords', () => {
  it('matches whole words and phrases, ignoring case, in any script', () => {
    expect(matchesKeywords('anything', [])).toBe(true);
    expect(matchesKeywords('My REFUND!', ['refund'])).toBe(true);
    expect(matchesKeywords('refunded', ['refund'])).toBe(false);
    expect(matchesKeywords('Very late\n delivery', ['late delivery'])).toBe(true);
    expect(matchesKeywords('ÜBER alles', ['über'])).toBe(true);
    expect(matchesKeywords('darüber', ['über'])).toBe(false);
    expect(matchesKeywords('Ça ne marche pas', ['ça'])).toBe(true);
    // The same letters, composed differently.
    expect(matchesKeywords('cafe\u0301 closed', ['café'])).toBe(true);
    expect(matchesKeywords('заказ не пришёл', ['Заказ'])).toBe(true);
    expect(matchesKeywords('I love C++ and (brackets)', ['c++', '(brackets)'])).toBe(true);
  });
});
