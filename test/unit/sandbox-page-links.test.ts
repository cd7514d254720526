import { describe, expect, it } from 'vitest';
import { esc, linkHtml, safeHref, slackLinkHtml } from '../../sandbox/page-links.js';

/** The hrefs of the links in some HTML, as the browser would read them back. */
const hrefs = (html: string) =>
  [...html.matchAll(/<a href="([^"]*)"/g)].map((m) =>
    (m[1] as string)
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&'),
  );

describe('the sandbox page links', () => {
  it('makes links of http(s) URLs only', () => {
    expect(safeHref('https://forum.example/t/1')).toBe('https://forum.example/t/1');
    expect(safeHref('http://127.0.0.1:3000/x')).toBe('http://127.0.0.1:3000/x');
    for (const url of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      '//evil.example/',
      '/relative',
      '',
      undefined,
    ]) {
      expect({ url, href: safeHref(url) }).toEqual({ url, href: undefined });
    }
  });

  it('renders a javascript: URL as text, never as a link', () => {
    expect(linkHtml('javascript:alert(document.cookie)', 'post')).toBe('post');
    // A customer URL in a Slack message, as carebot or a person could write it: `<url|label>`.
    expect(slackLinkHtml('javascript:alert(1)', 'View original')).toBe('View original');
    const bare = slackLinkHtml('javascript:alert(1)', undefined);
    expect(bare).not.toContain('<a');
    expect(bare).toBe('javascript:alert(1)');
  });

  it('escapes the link target: a quote cannot leave the href attribute', () => {
    const html = linkHtml('https://x.example/"onmouseover="alert(1)', 'post');
    expect(html).not.toContain('"onmouseover');
    expect(html).toMatch(/^<a href="[^"]*" target="_blank" rel="noreferrer">post<\/a>$/);
    expect(hrefs(html)).toEqual(['https://x.example/%22onmouseover=%22alert(1)']);
    const quoted = linkHtml("https://x.example/it's", 'post');
    expect(quoted).not.toMatch(/href="[^"]*'/);
  });

  it('decodes Slack escaping in the target before checking and escaping it again', () => {
    const html = slackLinkHtml('https://shop.example/search?q=a&amp;page=2', undefined);
    expect(hrefs(html)).toEqual(['https://shop.example/search?q=a&page=2']);
    expect(html).toContain('>https://shop.example/search?q=a&amp;page=2</a>');
    // An escaped scheme is still the scheme it spells.
    expect(slackLinkHtml('javascript:alert(&quot;x&quot;)&amp;', 'x')).toBe('x');
  });

  it('escapes text for content and attributes', () => {
    expect(esc(`<img src=x onerror="a('b')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
    );
    expect(esc(undefined)).toBe('');
  });
});
