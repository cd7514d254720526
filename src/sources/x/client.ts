import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import type { XAccount } from './config.js';

/** How long carebot waits for X before treating a request as failed. */
export const X_TIMEOUT_MS = 15_000;

export interface XResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when X answered with something else. */
  body: unknown;
}

/** X could not be reached or did not answer in time; says nothing about the request's secrets. */
export class XUnreachable extends Error {
  constructor(
    readonly timedOut: boolean,
    timeoutMs: number = X_TIMEOUT_MS,
  ) {
    super(timedOut ? `X did not answer within ${timeoutMs / 1000} s` : 'X could not be reached');
    this.name = 'XUnreachable';
  }
}

export type XQuery = Record<string, string | number | undefined>;

/**
 * One request to the X API, signed with OAuth 1.0a user context (HMAC-SHA1) as the account. Query
 * parameters are part of the signature; a JSON body is not (OAuth 1.0a signs only form bodies).
 * The query string is encoded exactly as the signature encodes it (RFC 3986), so a keyword with
 * spaces, quotes or parentheses cannot make X compute a different signature.
 */
export async function xRequest(
  account: XAccount,
  apiUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { query?: XQuery; json?: unknown; timeoutMs?: number } = {},
): Promise<XResponse> {
  const oauth = new OAuth({
    consumer: { key: account.consumerKey, secret: account.consumerSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
  });
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) query[name] = String(value);
  }
  const url = `${apiUrl.replace(/\/+$/, '')}${path}`;
  const signed = oauth.authorize(
    { url, method, data: query },
    { key: account.accessToken, secret: account.accessSecret },
  );
  const search = Object.entries(query)
    .map(([name, value]) => `${oauth.percentEncode(name)}=${oauth.percentEncode(value)}`)
    .join('&');
  const headers: Record<string, string> = {
    ...oauth.toHeader(signed),
    accept: 'application/json',
    'user-agent': 'carebot',
  };
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const timeoutMs = options.timeoutMs ?? X_TIMEOUT_MS;
  let res: Response;
  try {
    res = await fetch(search ? `${url}?${search}` : url, {
      method,
      headers,
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // The fetch error may carry the request (and its Authorization header); only its kind leaves.
    throw new XUnreachable(isTimeout(err), timeoutMs);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new XUnreachable(isTimeout(err), timeoutMs);
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): kept as text for the error message.
  }
  return { status: res.status, headers: res.headers, body };
}

const isTimeout = (err: unknown) =>
  err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
