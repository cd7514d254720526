import type { Clock } from '../../care/clock.js';
import type { ApiProblem, ApiResponse } from '../types.js';
import type { AppStoreAccount } from './config.js';
import { accessHint, credentialsHint, errorWords } from './errors.js';
import { APP_STORE_TIMEOUT, RATE_LIMIT_FALLBACK } from './limits.js';
import { AppStoreToken } from './token.js';

export type AppStoreResponse = ApiResponse;

/** {@link ApiProblem}; `reset`: a kept-alive connection was closed under the request (a read may be sent again). */
export type AppStoreProblem =
  | Exclude<ApiProblem, { kind: 'unavailable' }>
  | { kind: 'unavailable'; reason: string; reset?: boolean };

export type AppStoreResult =
  | { ok: true; response: AppStoreResponse }
  | { ok: false; problem: AppStoreProblem };

/**
 * One App Store Connect API key and app: signs its token (token.ts), sends JSON:API requests,
 * signs a new token once when Apple answers 401, and keeps to the hourly budget that Apple reports
 * in each answer's `X-Rate-Limit` header, so a request that would only earn a 429 is not sent.
 */
export class AppStoreClient {
  private readonly token: AppStoreToken;
  private blockedUntil: Date | undefined;

  constructor(
    readonly account: AppStoreAccount,
    private readonly apiUrl: string,
    private readonly timeoutMs: number = APP_STORE_TIMEOUT,
  ) {
    this.token = new AppStoreToken(account);
  }

  get label(): string {
    return `App Store app ${this.account.appId}`;
  }

  /** `path` is under the API URL (`/v1/…`), or a `links.next` URL Apple gave. */
  async request(
    clock: Clock,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<AppStoreResult> {
    const blocked = this.blockedUntil;
    if (blocked && blocked.getTime() > clock.now().getTime()) {
      return { ok: false, problem: { kind: 'rate_limited', retryAt: blocked } };
    }
    for (let renewed = false; ; renewed = true) {
      const token = await this.token.get(clock);
      if (!token.ok) return { ok: false, problem: { kind: 'auth_failed', ...token.problem } };
      let sent = await this.send(method, path, body, token.value);
      // A kept-alive connection the server had just closed: a read or delete is sent once more at
      // once; a create is not (it may have arrived: the reply adapter looks before it resends).
      if (!sent.ok && sent.problem.kind === 'unavailable' && sent.problem.reset && method !== 'POST') {
        sent = await this.send(method, path, body, token.value);
      }
      if (!sent.ok) return sent;
      const { response } = sent;
      this.noteRateLimit(response.headers, clock.now());
      if (response.status === 401 && !renewed) {
        // Expired early or the clock jumped: a new token, once; a second 401 is the key itself.
        this.token.forget(token.value);
        continue;
      }
      if (response.status === 401) {
        return {
          ok: false,
          problem: {
            kind: 'auth_failed',
            reason: `App Store Connect refuses the API key ${this.account.keyId} of the app "${this.account.name}": ${errorWords(response.body, 401)}`,
            hint: credentialsHint(this.account),
          },
        };
      }
      if (response.status === 403) {
        return {
          ok: false,
          problem: {
            kind: 'auth_failed',
            reason: `App Store Connect does not let the API key ${this.account.keyId} do this for app ${this.account.appId}: ${errorWords(response.body, 403)}`,
            hint: accessHint(this.account),
          },
        };
      }
      if (response.status === 429) {
        const retryAt = retryAtOf(response.headers, clock.now());
        this.blockedUntil = retryAt;
        return { ok: false, problem: { kind: 'rate_limited', retryAt } };
      }
      return sent;
    }
  }

  private async send(method: string, path: string, body: unknown, token: string): Promise<AppStoreResult> {
    const url = /^https?:\/\//.test(path)
      ? new URL(path)
      : new URL(`${this.apiUrl.replace(/\/+$/, '')}${path}`);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
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
            ? `App Store Connect did not answer within ${this.timeoutMs / 1000} s`
            : 'App Store Connect could not be reached',
          reset: !timedOut,
        },
      };
    }
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (an error page): kept as text.
    }
    return { ok: true, response: { status: res.status, headers: res.headers, body: parsed } };
  }

  /** `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:0;` means the next request would be a 429. */
  private noteRateLimit(headers: Headers, now: Date): void {
    const remaining = hourlyRemaining(headers);
    if (remaining !== undefined && remaining < 1) this.blockedUntil = retryAtOf(headers, now);
  }
}

/** The `user-hour-rem` of App Store Connect's `X-Rate-Limit` header. */
export function hourlyRemaining(headers: Headers): number | undefined {
  const match = /user-hour-rem:(\d+)/.exec(headers.get('x-rate-limit') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** `Retry-After` (seconds) when Apple names it; else a fixed wait (the hourly budget names no reset). */
export function retryAtOf(headers: Headers, now: Date): Date {
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return new Date(now.getTime() + retryAfter * 1000);
  return new Date(now.getTime() + RATE_LIMIT_FALLBACK);
}
