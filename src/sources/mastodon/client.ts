import type { Clock } from '../../care/clock.js';
import type { ApiProblem, ApiResponse } from '../types.js';
import type { MastodonAccount } from './config.js';
import { RATE_LIMIT_FALLBACK } from './limits.js';

export type MastodonResponse = ApiResponse;

export type MastodonProblem = ApiProblem;

export type MastodonResult =
  | { ok: true; response: MastodonResponse }
  | { ok: false; problem: MastodonProblem; response?: MastodonResponse };

export interface MastodonRequest {
  query?: Array<[string, string]>;
  json?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * One account's connection to its instance: bearer-token requests under `url`, with the answers
 * that need a person (401, 403) or a pause (429) turned into problems in one place.
 */
export class MastodonClient {
  constructor(
    readonly account: MastodonAccount,
    private readonly timeoutMs: number,
  ) {}

  get host(): string {
    return new URL(this.account.url).host;
  }

  async request(
    clock: Clock,
    method: 'GET' | 'POST',
    path: string,
    options: MastodonRequest = {},
  ): Promise<MastodonResult> {
    const url = new URL(`${this.account.url}${path}`);
    for (const [name, value] of options.query ?? []) url.searchParams.append(name, value);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.account.accessToken}`,
          accept: 'application/json',
          ...(options.json ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.json ? { body: JSON.stringify(options.json) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      // The error may hold the request and its Authorization header: only its kind leaves.
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return {
        ok: false,
        problem: {
          kind: 'unavailable',
          reason: timedOut
            ? `${this.host} did not answer within ${this.timeoutMs / 1000} s`
            : `${this.host} could not be reached`,
        },
      };
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (an error page): kept as text.
    }
    const response: MastodonResponse = { status: res.status, headers: res.headers, body };
    const who = `the Mastodon account "${this.account.name}"`;
    if (res.status === 401) {
      return {
        ok: false,
        response,
        problem: {
          kind: 'auth_failed',
          reason: `${this.host} does not accept the access token of ${who} (${errorOf(body) ?? 'HTTP 401'})`,
          hint: tokenHint(this.account),
        },
      };
    }
    if (res.status === 403 && path !== '/api/v1/statuses') {
      return {
        ok: false,
        response,
        problem: {
          kind: 'auth_failed',
          reason: `${this.host} refused ${who} (${errorOf(body) ?? 'HTTP 403'}): the token lacks a scope, or the account is suspended`,
          hint: tokenHint(this.account),
        },
      };
    }
    if (res.status === 429) {
      return {
        ok: false,
        response,
        problem: { kind: 'rate_limited', retryAt: resetAt(res.headers, clock.now()) },
      };
    }
    return { ok: true, response };
  }
}

/** Mastodon's `X-RateLimit-Reset` is an ISO 8601 time (not epoch seconds, as on X). */
export function resetAt(headers: Headers, now: Date): Date {
  const reset = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  if (Number.isFinite(reset)) return new Date(Math.max(reset, now.getTime() + 1000));
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return new Date(now.getTime() + retryAfter * 1000);
  return new Date(now.getTime() + RATE_LIMIT_FALLBACK);
}

/** Mastodon's error body: `{"error": "…"}`, sometimes with `error_description`. */
export function errorOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const text = [body.error, body.error_description].filter((v) => typeof v === 'string' && v).join(': ');
  return text ? text.replace(/\s+/g, ' ').slice(0, 300) : undefined;
}

/** What a person does when the instance refuses the token. */
export function tokenHint(account: MastodonAccount): string {
  const where =
    account.name === 'default'
      ? 'MASTODON_ACCESS_TOKEN'
      : `access_token of the account "${account.name}" under sources.mastodon.accounts in carebot.config.yaml`;
  return (
    `On ${account.url}, open Preferences → Development, open carebot's application (or create one with the scopes ` +
    `read and write:statuses), copy "Your access token" into ${where}; carebot picks the account up again once it works.`
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
