import { createHmac } from 'node:crypto';
import type { FacebookPage } from './config.js';

/** How long carebot waits for the Graph API before treating a request as failed. */
export const GRAPH_TIMEOUT_MS = 15_000;

export interface GraphResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when Graph answered with something else. */
  body: unknown;
}

/** Graph could not be reached or did not answer in time; says nothing about the request's secrets. */
export class GraphUnreachable extends Error {
  constructor(
    readonly timedOut: boolean,
    timeoutMs: number = GRAPH_TIMEOUT_MS,
  ) {
    super(
      timedOut
        ? `Meta's Graph API (Facebook and Instagram) did not answer within ${timeoutMs / 1000} s`
        : "Meta's Graph API (Facebook and Instagram) could not be reached",
    );
    this.name = 'GraphUnreachable';
  }
}

export type GraphQuery = Record<string, string | number | undefined>;

/** The credentials Graph calls need: the Page token and the secret of the app it was issued to. */
export type GraphCredentials = Pick<FacebookPage, 'pageToken' | 'appSecret'>;

/**
 * `appsecret_proof`: hex HMAC-SHA256 of the access token keyed by the app secret. With "Require App
 * Secret" on in the app's settings, Graph refuses calls without it, so a leaked token alone is useless.
 */
export function appSecretProof(accessToken: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(accessToken).digest('hex');
}

/**
 * One Graph API call as the Page: `{apiUrl}/{apiVersion}{path}`, the Page token as a Bearer header
 * (kept out of URLs, which proxies log) and its `appsecret_proof` as a query parameter. A JSON body
 * is sent as JSON, which Graph reads like form parameters.
 */
export async function graphRequest(
  page: GraphCredentials,
  apiUrl: string,
  apiVersion: string,
  method: 'GET' | 'POST',
  path: string,
  options: { query?: GraphQuery; json?: unknown; timeoutMs?: number } = {},
): Promise<GraphResponse> {
  const url = new URL(`${apiUrl.replace(/\/+$/, '')}/${apiVersion}${path}`);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  url.searchParams.set('appsecret_proof', appSecretProof(page.pageToken, page.appSecret));
  const headers: Record<string, string> = {
    authorization: `Bearer ${page.pageToken}`,
    accept: 'application/json',
    'user-agent': 'carebot',
  };
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const timeoutMs = options.timeoutMs ?? GRAPH_TIMEOUT_MS;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers,
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    // The fetch error may carry the request (its URL holds the proof); only its kind leaves.
    throw new GraphUnreachable(isTimeout(err), timeoutMs);
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

export const isSuccess = (res: GraphResponse) => res.status >= 200 && res.status < 300;

export type GraphGet = (path: string, query: GraphQuery) => Promise<GraphResponse>;

/** POST and GET on Graph as one Page, with one timeout (the client's default when not given). */
export function graphCalls(page: FacebookPage, apiUrl: string, apiVersion: string, timeoutMs?: number) {
  const limit = timeoutMs ? { timeoutMs } : {};
  const post = (path: string, json: unknown) =>
    graphRequest(page, apiUrl, apiVersion, 'POST', path, { json, ...limit });
  const get: GraphGet = (path, query) =>
    graphRequest(page, apiUrl, apiVersion, 'GET', path, { query, ...limit });
  return { post, get };
}
