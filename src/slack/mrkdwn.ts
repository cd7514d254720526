import { toWellFormed } from '../http/well-formed.js';
import { segmenter as graphemes, MAX_LINKED_URL } from './limits.js';

/**
 * Slack mrkdwn helpers. Everything a customer wrote passes through `escapeText` before it reaches
 * Slack: with `&`, `<` and `>` escaped, Slack cannot read `<!channel>`, `<@U123>` or `<!subteam^…>`
 * in it as a mention, nor `<https://…|label>` as a disguised link.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Quotes (possibly multi-line) escaped text as a mrkdwn block quote. */
export function quote(text: string): string {
  return escapeText(text)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
}

/**
 * Quotes customer text within `max` characters of mrkdwn *after* escaping and quoting (escaping
 * can make text five times longer: `&` → `&amp;`), cutting between graphemes, never inside an
 * entity or a surrogate pair, and marking the cut.
 */
export function quoteWithin(text: string, max: number): string {
  let out = '>';
  // Escaping only lengthens, so no more than `max` characters of the text can fit.
  for (const { segment: ch } of graphemes.segment(toWellFormed(text.slice(0, max + 2)))) {
    const piece = ch === '\n' ? '\n>' : escapeText(ch);
    if (out.length + piece.length > max - 1) return `${out}…`;
    out += piece;
  }
  return out;
}

/** Cuts (unescaped) text to at most `max` graphemes, marking the cut. */
export function truncate(text: string, max: number): string {
  const clean = toWellFormed(text);
  if (clean.length <= max) return clean;
  // Segmenting costs time in the length of the whole string: look at a bounded prefix only.
  const kept: string[] = [];
  for (const { segment } of graphemes.segment(clean.slice(0, max * 16))) {
    if (kept.length === max) return `${kept.slice(0, max - 1).join('')}…`;
    kept.push(segment);
  }
  // The prefix ran out first (graphemes of many code units): its last one may be partial.
  return kept.join('').length === clean.length ? clean : `${kept.slice(0, -1).join('')}…`;
}

/**
 * A link for mrkdwn, or undefined when the URL is not plain http(s) or is too long to link (over
 * 1,000 characters; the caller shows the label instead). The label is escaped; the URL has the
 * characters that would end Slack's `<url|label>` syntax percent-encoded.
 */
export function link(url: string | null | undefined, label: string): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const safeUrl = parsed.href.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E');
  if (safeUrl.length > MAX_LINKED_URL) return undefined;
  return `<${safeUrl}|${escapeText(label).replace(/\|/g, '¦')}>`;
}

export const mentionUser = (userId: string) => `<@${userId}>`;
export const mentionUsergroup = (groupId: string) => `<!subteam^${groupId}>`;
