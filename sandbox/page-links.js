// Served to the sandbox page as /page-links.js (an ES module), and imported by its unit test: plain
// JavaScript, so the browser runs exactly what the test checked.

/** Text made safe for HTML element content and quoted attribute values. */
export function esc(s) {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * The URL, normalised, when it is an absolute http(s) URL; otherwise undefined. Links on the page
 * come from customers (a post's URL, a link in a case card), so `javascript:`, `data:` and the like
 * never become a link.
 */
export function safeHref(url) {
  let parsed;
  try {
    parsed = new URL(String(url ?? ''));
  } catch {
    return undefined;
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
}

/** A link to `url` around `labelHtml` (already HTML), or the label alone when `url` is not http(s). */
export function linkHtml(url, labelHtml) {
  const href = safeHref(url);
  if (!href) return labelHtml;
  return `<a href="${esc(href)}" target="_blank" rel="noreferrer">${labelHtml}</a>`;
}

/**
 * A Slack link `<target|label>` as HTML. Slack mrkdwn arrives with `&`, `<` and `>` escaped, in the
 * target too; the label is shown as it came (already escaped), the target is decoded before it is
 * checked and escaped again as an attribute.
 */
export function slackLinkHtml(target, label) {
  const url = String(target).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return linkHtml(url, label ?? esc(url));
}
