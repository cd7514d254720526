import { resetFromHeaders } from '../types.js';
import { appSecretProof, type GraphResponse, isRecord } from './client.js';
import type { FacebookPage } from './config.js';
import { GRAPH_THROTTLE_FALLBACK } from './limits.js';

/** What Graph said went wrong, from its error shape (`error.message`, `type`, `code`, `error_subcode`, `fbtrace_id`). */
export interface GraphError {
  message: string | undefined;
  type: string | undefined;
  code: number | undefined;
  subcode: number | undefined;
  /** Graph's own words for people, when it has them. */
  userMessage: string | undefined;
  fbtraceId: string | undefined;
  isTransient: boolean;
}

export function graphError(body: unknown): GraphError {
  const e = isRecord(body) && isRecord(body.error) ? body.error : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const num = (v: unknown) => {
    const n = typeof v === 'string' ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
  };
  return {
    message: str(e.message) ?? (typeof body === 'string' ? str(body.slice(0, 200)) : undefined),
    type: str(e.type),
    code: num(e.code),
    subcode: num(e.error_subcode),
    userMessage: str(e.error_user_msg),
    fbtraceId: str(e.fbtrace_id),
    isTransient: e.is_transient === true,
  };
}

/** What a Graph failure means for carebot, whatever the call was. */
export type GraphProblem =
  /** The Page token expired or was revoked (190, or a 401): a person must issue a new one. */
  | { kind: 'token' }
  /** Too many calls (4, 17, 32, 613, 80001…, HTTP 429): wait until `retryAt`. */
  | { kind: 'throttled'; retryAt: Date }
  /** The token lacks a permission or the Page a feature (10, 200–299). */
  | { kind: 'permission' }
  /** Messenger's 24-hour window since the customer's last message has closed. */
  | { kind: 'messaging_window' }
  /** The person cannot be messaged (blocked the Page, deactivated, or not reachable). */
  | { kind: 'recipient_unavailable' }
  /** A comment or post takes one private reply, within 7 days. */
  | { kind: 'private_reply_used' }
  /** The object is gone (deleted comment or post) or cannot be seen. */
  | { kind: 'not_found' }
  /** Graph's own trouble (5xx, codes 1 and 2, `is_transient`): try again. */
  | { kind: 'server' }
  /** Anything else: a refusal of this one request. */
  | { kind: 'refused' };

const THROTTLE_CODES = new Set([4, 17, 32, 613]);
/** Business use case rate limits (Pages, Instagram, Messenger…) have codes of their own. */
const isBusinessThrottle = (code: number) => code >= 80_001 && code <= 80_014;

export function classifyGraphFailure(res: GraphResponse, error: GraphError, now: Date): GraphProblem {
  const { code, subcode } = error;
  const text = `${error.message ?? ''} ${error.userMessage ?? ''}`;
  if (code === 190 || code === 102 || (res.status === 401 && code === undefined)) return { kind: 'token' };
  if (res.status === 429 || (code !== undefined && (THROTTLE_CODES.has(code) || isBusinessThrottle(code)))) {
    return { kind: 'throttled', retryAt: throttledUntil(res.headers, now) };
  }
  if (subcode === 2018278 || /outside (of )?(the )?allowed window/i.test(text)) {
    return { kind: 'messaging_window' };
  }
  if (code === 551 || subcode === 1545041) return { kind: 'recipient_unavailable' };
  if (code === 10900 || code === 10903 || /already (been )?replied/i.test(text)) {
    return { kind: 'private_reply_used' };
  }
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299)) return { kind: 'permission' };
  if ((code === 100 && /does not exist|cannot be loaded/i.test(text)) || code === 803) {
    return { kind: 'not_found' };
  }
  if (res.status >= 500 || code === 1 || code === 2 || error.isTransient) return { kind: 'server' };
  return { kind: 'refused' };
}

/**
 * When a throttled Page may call again: the longest `estimated_time_to_regain_access` (minutes) in
 * Graph's usage headers, else `Retry-After`, else five minutes.
 */
export function throttledUntil(headers: Headers, now: Date): Date {
  let minutes = 0;
  for (const name of ['x-business-use-case-usage', 'x-app-usage', 'x-page-usage', 'x-ad-account-usage']) {
    const value = headers.get(name);
    if (!value) continue;
    try {
      minutes = Math.max(minutes, longestWait(JSON.parse(value)));
    } catch {
      // An unreadable header says nothing about the wait.
    }
  }
  if (minutes > 0) return new Date(now.getTime() + minutes * 60_000);
  return resetFromHeaders(headers, GRAPH_THROTTLE_FALLBACK, now);
}

function longestWait(value: unknown): number {
  if (Array.isArray(value)) return Math.max(0, ...value.map(longestWait));
  if (!isRecord(value)) return 0;
  let longest = 0;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'estimated_time_to_regain_access' && typeof v === 'number' && Number.isFinite(v)) {
      longest = Math.max(longest, v);
    } else if (typeof v === 'object') {
      longest = Math.max(longest, longestWait(v));
    }
  }
  return longest;
}

/**
 * Graph's explanation in one line, for a person to read, without any of the Page's secrets (Graph
 * does not echo them, but a proxy's error page might).
 */
export function describeGraphError(page: FacebookPage, error: GraphError, status: number): string {
  const base = error.userMessage ?? error.message ?? `HTTP ${status}`;
  const codes =
    error.code === undefined ? '' : ` (code ${error.code}${error.subcode ? `/${error.subcode}` : ''})`;
  const text = redactSecrets(page, `${base}${codes}`).replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

export function redactSecrets(page: FacebookPage, text: string): string {
  let out = text;
  for (const secret of [page.pageToken, page.appSecret, appSecretProof(page.pageToken, page.appSecret)]) {
    if (secret) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** Where the Page's token is set: the environment for the default Page, else the config file. */
function whereToUpdate(page: FacebookPage): string {
  return page.name === 'default'
    ? 'update FACEBOOK_PAGE_TOKEN'
    : `update page_token of the page "${page.name}" under sources.facebook.pages in carebot.config.yaml`;
}

/** Why the token stopped working, in plain words, from the subcode of a 190. */
export function tokenProblem(page: FacebookPage, error: GraphError): string {
  const why =
    error.subcode === 463
      ? 'has expired'
      : error.subcode === 460
        ? 'stopped working because the password of the person who issued it changed'
        : error.subcode === 458
          ? 'stopped working because the app was removed from the Page or the account'
          : error.subcode === 492
            ? 'stopped working because the person who issued it no longer manages the Page'
            : 'has expired or was revoked';
  return `The Facebook Page token of "${page.name}" ${why}`;
}

/** What a person does when the Page token stops working. */
export function tokenHint(page: FacebookPage): string {
  return (
    `Generate a new Page access token for "${page.name}" (a long-lived one, e.g. from a system user in ` +
    `Meta Business Suite, with pages_manage_metadata, pages_read_engagement, pages_manage_engagement and ` +
    `pages_messaging, plus instagram_manage_comments for Instagram) and ${whereToUpdate(page)}; ` +
    'carebot picks the Page up again once it works.'
  );
}

/** What a person does when the token lacks a permission. */
export function permissionHint(page: FacebookPage, needed: string): string {
  return (
    `Grant the app ${needed} for "${page.name}" (and the person who issues the token a role on the Page ` +
    `that allows it), then generate a new Page token and ${whereToUpdate(page)}.`
  );
}
