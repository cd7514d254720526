/**
 * Lone UTF-16 surrogates ("\ud800" is valid JSON) cannot be stored: PostgreSQL refuses them in
 * jsonb, and text turns them into U+FFFD behind our back. Free text a customer wrote is made
 * well-formed (each lone surrogate becomes U+FFFD, as a browser shows it); an identifier is refused,
 * since changing it would make it name something else.
 */

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

export const NOT_WELL_FORMED = 'must be valid Unicode (it holds a lone surrogate)';

export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function toWellFormed(s: string): string {
  return isWellFormed(s) ? s : s.replace(LONE_SURROGATES, '\uFFFD');
}

/**
 * Walks a parsed JSON body: strings under a key in `freeText` (at any depth) are made well-formed,
 * any other ill-formed string or key is reported by its path (e.g. `entry.0.id`). Returns the
 * body, with free text repaired, or the path of the first identifier that cannot be stored.
 */
export function wellFormedBody(
  body: unknown,
  freeText: ReadonlySet<string>,
): { ok: true; body: unknown } | { ok: false; path: string } {
  let bad: string | undefined;
  const walk = (value: unknown, path: string[], key: string | undefined): unknown => {
    if (bad !== undefined) return value;
    if (typeof value === 'string') {
      if (isWellFormed(value)) return value;
      if (key !== undefined && freeText.has(key)) return toWellFormed(value);
      bad = path.join('.') || '(body)';
      return value;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)], key));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (!isWellFormed(k)) {
          bad = [...path, toWellFormed(k)].join('.');
          return value;
        }
        out[k] = walk(v, [...path, k], k);
      }
      return out;
    }
    return value;
  };
  const repaired = walk(body, [], undefined);
  return bad === undefined ? { ok: true, body: repaired } : { ok: false, path: bad };
}
