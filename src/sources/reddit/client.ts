import packageJson from '../../../package.json' with { type: 'json' };
import type { Clock } from '../../care/clock.js';
import { type ApiProblem, type ApiResponse, fetchApi, resetFromHeaders } from '../types.js';
import type { RedditAccount } from './config.js';
import { accountRefusedHint, clientCredentialsHint, isRecord, passwordHint } from './errors.js';
import { RATE_LIMIT_FALLBACK, REDDIT_TIMEOUT, TOKEN_REFRESH_MARGIN } from './limits.js';

/** Where Reddit answers: the API (`oauth.reddit.com`) and the token endpoint (`www.reddit.com`). */
export interface RedditUrls {
  apiUrl: string;
  authUrl: string;
}

export type RedditResponse = ApiResponse;

export type RedditProblem = ApiProblem;

export type RedditResult = { ok: true; response: RedditResponse } | { ok: false; problem: RedditProblem };

export interface RedditRequest {
  query?: Record<string, string | number | undefined>;
  /** Sent as `application/x-www-form-urlencoded`, as Reddit's write endpoints expect. */
  form?: Record<string, string>;
}

/**
 * One Reddit account's connection: a script app's password-grant token, kept until shortly before
 * it expires and renewed once when the API answers 401; the User-Agent Reddit asks for; and the
 * rate limit Reddit reports in every answer, so a request that would only earn a 429 is not sent.
 */
export class RedditClient {
  private token: { value: string; refreshAt: number } | undefined;
  private pendingToken:
    | Promise<{ ok: true; value: string } | { ok: false; problem: RedditProblem }>
    | undefined;
  private blockedUntil: Date | undefined;
  readonly userAgent: string;

  constructor(
    readonly account: RedditAccount,
    private readonly urls: RedditUrls,
    /** How long each request may take (the setup check waits less than the pollers). */
    private readonly timeoutMs: number = REDDIT_TIMEOUT,
  ) {
    // Reddit's rules: `<platform>:<app ID>:<version> (by /u/<username>)`; generic agents get throttled.
    this.userAgent = `${process.platform}:carebot:${packageJson.version} (by /u/${account.username})`;
  }

  async request(
    clock: Clock,
    method: 'GET' | 'POST',
    path: string,
    options: RedditRequest = {},
  ): Promise<RedditResult> {
    const blocked = this.blockedUntil;
    if (blocked && blocked.getTime() > clock.now().getTime()) {
      return { ok: false, problem: { kind: 'rate_limited', retryAt: blocked } };
    }
    let renewed = false;
    for (;;) {
      const token = await this.accessToken(clock);
      if (!token.ok) return token;
      const sent = await this.send(clock, method, path, options, token.value);
      if (!sent.ok) return sent;
      const { response } = sent;
      if (response.status === 401 && !renewed) {
        // Revoked or expired early: a new token, once; a second 401 is not a stale token.
        if (this.token?.value === token.value) this.token = undefined;
        renewed = true;
        continue;
      }
      if (response.status === 401) {
        return {
          ok: false,
          problem: {
            kind: 'auth_failed',
            reason: `Reddit refuses the token it just issued to u/${this.account.username} (HTTP 401)`,
            hint: accountRefusedHint(this.account),
          },
        };
      }
      if (response.status === 429) {
        const retryAt = redditResetAt(response.headers, clock.now());
        this.blockedUntil = retryAt;
        return { ok: false, problem: { kind: 'rate_limited', retryAt } };
      }
      return sent;
    }
  }

  private async send(
    clock: Clock,
    method: 'GET' | 'POST',
    path: string,
    options: RedditRequest,
    token: string,
  ): Promise<RedditResult> {
    const url = new URL(`${this.urls.apiUrl.replace(/\/+$/, '')}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const fetched = await fetchReddit(
      url,
      {
        method,
        headers: {
          authorization: `bearer ${token}`,
          'user-agent': this.userAgent,
          accept: 'application/json',
          ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(options.form ? { body: new URLSearchParams(options.form).toString() } : {}),
      },
      this.timeoutMs,
    );
    if (!fetched.ok) return fetched;
    this.noteRateLimit(fetched.response.headers, clock.now());
    return fetched;
  }

  /** Reddit counts down `x-ratelimit-remaining`; at zero the next request would be a 429. */
  private noteRateLimit(headers: Headers, now: Date): void {
    const remaining = headers.get('x-ratelimit-remaining');
    if (remaining === null || remaining.trim() === '') return;
    const left = Number(remaining);
    if (Number.isFinite(left) && left < 1) this.blockedUntil = redditResetAt(headers, now);
  }

  private async accessToken(
    clock: Clock,
  ): Promise<{ ok: true; value: string } | { ok: false; problem: RedditProblem }> {
    if (this.token && clock.now().getTime() < this.token.refreshAt)
      return { ok: true, value: this.token.value };
    // Pollers of one account may ask at once; they share one sign-in.
    this.pendingToken ??= this.signIn(clock).finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  /** `POST /api/v1/access_token` with the app's id and secret and the account's password. */
  private async signIn(
    clock: Clock,
  ): Promise<{ ok: true; value: string } | { ok: false; problem: RedditProblem }> {
    const { account } = this;
    const basic = Buffer.from(`${account.clientId}:${account.clientSecret}`).toString('base64');
    const fetched = await fetchReddit(
      new URL(`${this.urls.authUrl.replace(/\/+$/, '')}/api/v1/access_token`),
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'user-agent': this.userAgent,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'password',
          username: account.username,
          password: account.password,
        }).toString(),
      },
      this.timeoutMs,
    );
    if (!fetched.ok) return fetched;
    const { status, headers, body } = fetched.response;
    const now = clock.now();
    const fields = isRecord(body) ? body : {};
    if (status === 200 && typeof fields.access_token === 'string' && fields.access_token) {
      const expiresInMs = (typeof fields.expires_in === 'number' ? fields.expires_in : 3600) * 1000;
      const lifetime = Math.max(expiresInMs - TOKEN_REFRESH_MARGIN, expiresInMs / 2);
      this.token = { value: fields.access_token, refreshAt: now.getTime() + lifetime };
      return { ok: true, value: fields.access_token };
    }
    const who = `u/${account.username}`;
    if (status === 429) {
      return { ok: false, problem: { kind: 'rate_limited', retryAt: redditResetAt(headers, now) } };
    }
    if (status >= 500) {
      return {
        ok: false,
        problem: { kind: 'unavailable', reason: `Reddit's sign-in had an error (HTTP ${status})` },
      };
    }
    if (status === 401 || status === 403) {
      return {
        ok: false,
        problem: {
          kind: 'auth_failed',
          reason: `Reddit did not accept the app's client id and secret for ${who} (HTTP ${status})`,
          hint: clientCredentialsHint(account),
        },
      };
    }
    // A wrong password is a 200 with `{"error": "invalid_grant"}`.
    const error = typeof fields.error === 'string' ? fields.error : `HTTP ${status}`;
    return {
      ok: false,
      problem: {
        kind: 'auth_failed',
        reason:
          error === 'invalid_grant'
            ? `Reddit did not accept the username and password of ${who} (invalid_grant)`
            : `Reddit refused to sign in ${who} (${error.slice(0, 100)})`,
        hint: passwordHint(account),
      },
    };
  }
}

/** Reddit's `x-ratelimit-reset` is seconds from now (not an epoch time, as on X). */
export function redditResetAt(headers: Headers, now: Date): Date {
  const reset = headers.get('x-ratelimit-reset');
  const seconds = reset === null || reset.trim() === '' ? Number.NaN : Number(reset);
  if (Number.isFinite(seconds) && seconds >= 0) return new Date(now.getTime() + Math.max(seconds, 1) * 1000);
  return resetFromHeaders(headers, RATE_LIMIT_FALLBACK, now);
}

function fetchReddit(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<{ ok: true; response: RedditResponse } | { ok: false; problem: RedditProblem }> {
  // Redirects are answers too: Reddit sends an unknown subreddit to a search page.
  return fetchApi('Reddit', url, { ...init, redirect: 'manual' }, timeoutMs);
}
