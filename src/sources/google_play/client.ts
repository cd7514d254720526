import type { Clock } from '../../care/clock.js';
import { type ApiProblem, type ApiResponse, fetchApi, resetFromHeaders } from '../types.js';
import type { GooglePlayAccount } from './config.js';
import { readKeyFile, signAssertion } from './credentials.js';
import { accessHint, googleError, grantHint, isRecord, keyFileHint } from './errors.js';
import { PLAY_TIMEOUT, RATE_LIMIT_FALLBACK, TOKEN_REFRESH_MARGIN } from './limits.js';

export type PlayResponse = ApiResponse;

export type PlayProblem = ApiProblem;

export type PlayResult = { ok: true; response: PlayResponse } | { ok: false; problem: PlayProblem };

type TokenResult = { ok: true; value: string } | { ok: false; problem: PlayProblem };

/**
 * One app's connection to the Android Publisher API as its service account: an access token from
 * the OAuth 2 JWT bearer grant (RFC 7523) at the key file's `token_uri`, kept until shortly before it
 * expires and renewed once when the API answers 401. The key file is read at each sign-in, so a
 * replaced key is picked up without a restart.
 */
export class PlayClient {
  private token: { value: string; refreshAt: number } | undefined;
  private pendingToken: Promise<TokenResult> | undefined;
  /** The service account's e-mail, once the key file was read (for hints). */
  clientEmail: string | undefined;

  constructor(
    readonly account: GooglePlayAccount,
    private readonly apiUrl: string,
    private readonly timeoutMs: number = PLAY_TIMEOUT,
  ) {}

  /** `path` goes on from `/androidpublisher/v3/applications/{packageName}`. */
  async request(
    clock: Clock,
    method: 'GET' | 'POST',
    path: string,
    options: { query?: Record<string, string | number | undefined>; json?: unknown } = {},
  ): Promise<PlayResult> {
    let renewed = false;
    for (;;) {
      const token = await this.accessToken(clock);
      if (!token.ok) return token;
      const url = new URL(
        `${this.apiUrl}/androidpublisher/v3/applications/${encodeURIComponent(this.account.packageName)}${path}`,
      );
      for (const [name, value] of Object.entries(options.query ?? {})) {
        if (value !== undefined) url.searchParams.set(name, String(value));
      }
      const sent = await fetchGoogle(
        url,
        {
          method,
          headers: {
            authorization: `Bearer ${token.value}`,
            accept: 'application/json',
            ...(options.json === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
        },
        this.timeoutMs,
      );
      if (!sent.ok) return sent;
      const { status, headers, body } = sent.response;
      if (status === 401 && !renewed) {
        // Expired or revoked early: a new token, once; a second 401 is not a stale token.
        if (this.token?.value === token.value) this.token = undefined;
        renewed = true;
        continue;
      }
      const { message } = googleError(body);
      if (status === 401 || status === 403) {
        return {
          ok: false,
          problem: {
            kind: 'auth_failed',
            reason: `Google Play refused ${this.clientEmail ?? 'the service account'} access to ${this.account.packageName} (HTTP ${status}${message ? `: ${message}` : ''})`,
            hint: accessHint(this.account, this.clientEmail),
          },
        };
      }
      if (status === 429) {
        return {
          ok: false,
          problem: {
            kind: 'rate_limited',
            retryAt: resetFromHeaders(headers, RATE_LIMIT_FALLBACK, clock.now()),
          },
        };
      }
      return sent;
    }
  }

  private accessToken(clock: Clock): Promise<TokenResult> {
    if (this.token && clock.now().getTime() < this.token.refreshAt)
      return Promise.resolve({ ok: true, value: this.token.value });
    // Pollers and replies of one app may ask at once; they share one sign-in.
    this.pendingToken ??= this.signIn(clock).finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  /** Signs the grant with the key and trades it for an access token at the key's `token_uri`. */
  private async signIn(clock: Clock): Promise<TokenResult> {
    const { account } = this;
    const file = await readKeyFile(account.credentialsFile);
    if (!file.ok) {
      return { ok: false, problem: { kind: 'auth_failed', reason: file.reason, hint: keyFileHint(account) } };
    }
    const { key } = file;
    this.clientEmail = key.client_email;
    let assertion: string;
    try {
      assertion = await signAssertion(key, clock.now());
    } catch {
      return {
        ok: false,
        problem: {
          kind: 'auth_failed',
          reason: `the private key in ${account.credentialsFile} cannot sign (not an RSA key in PKCS #8 PEM)`,
          hint: keyFileHint(account),
        },
      };
    }
    const fetched = await fetchGoogle(
      new URL(key.token_uri),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
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
    if (status === 429) {
      return {
        ok: false,
        problem: { kind: 'rate_limited', retryAt: resetFromHeaders(headers, RATE_LIMIT_FALLBACK, now) },
      };
    }
    if (status >= 500) {
      return {
        ok: false,
        problem: { kind: 'unavailable', reason: `Google's sign-in had an error (HTTP ${status})` },
      };
    }
    // `{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}` and the like.
    const error = typeof fields.error === 'string' ? fields.error : `HTTP ${status}`;
    const description =
      typeof fields.error_description === 'string' ? `: ${fields.error_description.slice(0, 150)}` : '';
    return {
      ok: false,
      problem: {
        kind: 'auth_failed',
        reason: `Google did not accept the key of ${key.client_email} (${error.slice(0, 50)}${description})`,
        hint: grantHint(account, key.client_email),
      },
    };
  }
}

function fetchGoogle(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<PlayResult> {
  return fetchApi('Google', url, init, timeoutMs);
}
