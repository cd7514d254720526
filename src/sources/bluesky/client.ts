import { AtpAgent, XRPCError } from '@atproto/api';
import type { Clock } from '../../care/clock.js';
import type { BlueskyAccount } from './config.js';
import { BLUESKY_TIMEOUT, RATE_LIMIT_FALLBACK } from './limits.js';

/** Why a call got no answer worth reading; none of them carries a secret. */
export type BlueskyProblem =
  /** A 429: wait until `ratelimit-reset`. */
  | { kind: 'rate_limited'; retryAt: Date }
  /** The app password does not sign in (revoked, wrong, the account taken down): a person must act. */
  | { kind: 'auth_failed'; reason: string; hint: string }
  /** Bluesky could not be reached, timed out or had an error: it may pass. */
  | { kind: 'unavailable'; reason: string }
  /** Bluesky refused this call (a 4xx other than the above), with its `{error, message}`. */
  | { kind: 'refused'; status: number; error: string; message: string };

export type BlueskyResult<T> = { ok: true; value: T } | { ok: false; problem: BlueskyProblem };

/** The signed-in account, as `createSession` names it. */
export interface BlueskySession {
  did: string;
  handle: string;
}

const SESSION_ERRORS = new Set(['ExpiredToken', 'InvalidToken', 'AuthenticationRequired', 'AuthMissing']);

/**
 * One Bluesky account's connection through `@atproto/api`'s AtpAgent: signs in once
 * (`com.atproto.server.createSession` with the app password) and keeps the session; the agent
 * refreshes the access token itself (`refreshSession`) when Bluesky answers `ExpiredToken`. When
 * the session is gone anyway (the refresh token expired or was revoked), one new sign-in is tried;
 * when that is refused the account needs a person.
 */
export class BlueskyClient {
  readonly agent: AtpAgent;
  private pendingLogin: Promise<BlueskyResult<BlueskySession>> | undefined;
  private blockedUntil: Date | undefined;

  constructor(
    readonly account: BlueskyAccount,
    serviceUrl: string,
    private readonly timeoutMs: number = BLUESKY_TIMEOUT,
  ) {
    this.agent = new AtpAgent({
      service: serviceUrl,
      fetch: (input, init) => {
        const timeout = AbortSignal.timeout(this.timeoutMs);
        const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
        return fetch(input, { ...init, signal });
      },
    });
  }

  /** The signed-in account (signing in first when there is no session). */
  async session(clock: Clock): Promise<BlueskyResult<BlueskySession>> {
    const current = this.agent.session;
    if (current) return { ok: true, value: { did: current.did, handle: current.handle } };
    this.pendingLogin ??= this.login(clock).finally(() => {
      this.pendingLogin = undefined;
    });
    return this.pendingLogin;
  }

  /**
   * Runs `call` with a session; a session Bluesky no longer accepts gets one new sign-in and one
   * retry. The agent checks every answer against the lexicon and refuses a whole page for one odd
   * item (a display name longer than the lexicon allows); `lenient` reads such an answer anyway,
   * keeping the items it can, so one post cannot stop a poller for good.
   */
  async call<T>(
    clock: Clock,
    call: (agent: AtpAgent) => Promise<{ data: T }>,
    lenient?: (body: unknown) => T | undefined,
  ): Promise<BlueskyResult<T>> {
    const blocked = this.blockedUntil;
    if (blocked && blocked.getTime() > clock.now().getTime()) {
      return { ok: false, problem: { kind: 'rate_limited', retryAt: blocked } };
    }
    for (let attempt = 0; ; attempt++) {
      const session = await this.session(clock);
      if (!session.ok) return session;
      try {
        return { ok: true, value: (await call(this.agent)).data };
      } catch (err) {
        const xrpc = err instanceof XRPCError ? err : undefined;
        if (xrpc && attempt === 0 && (xrpc.status === 401 || SESSION_ERRORS.has(xrpc.error))) {
          // The agent could not refresh the session: sign in again, once.
          this.agent.sessionManager.session = undefined;
          continue;
        }
        // An XRPCInvalidResponseError (not exported by @atproto/api): status 2 with the body it refused.
        if (lenient && xrpc?.status === 2 && 'responseBody' in xrpc) {
          const value = lenient(xrpc.responseBody);
          if (value !== undefined) return { ok: true, value };
        }
        return { ok: false, problem: this.problemOf(err, clock) };
      }
    }
  }

  private async login(clock: Clock): Promise<BlueskyResult<BlueskySession>> {
    try {
      const res = await this.agent.login({
        identifier: this.account.identifier,
        password: this.account.appPassword,
      });
      return { ok: true, value: { did: res.data.did, handle: res.data.handle } };
    } catch (err) {
      const xrpc = err instanceof XRPCError ? err : undefined;
      const who = `the Bluesky account ${this.account.identifier}`;
      if (xrpc && (xrpc.status === 401 || xrpc.error === 'AuthenticationRequired')) {
        return {
          ok: false,
          problem: {
            kind: 'auth_failed',
            reason: `Bluesky did not accept the app password of ${who} (${xrpc.error ?? 'HTTP 401'})`,
            hint: passwordHint(this.account),
          },
        };
      }
      if (xrpc && ['AccountTakedown', 'AccountDeactivated', 'AccountNotFound'].includes(xrpc.error ?? '')) {
        return {
          ok: false,
          problem: {
            kind: 'auth_failed',
            reason: `Bluesky refused to sign in ${who} (${xrpc.error})`,
            hint: `Sign in to Bluesky as ${this.account.identifier} and check that the account is active; carebot picks it up again once it can sign in.`,
          },
        };
      }
      return { ok: false, problem: this.problemOf(err, clock) };
    }
  }

  private problemOf(err: unknown, clock: Clock): BlueskyProblem {
    if (!(err instanceof XRPCError)) {
      // The error may hold the request: only its kind leaves.
      return { kind: 'unavailable', reason: 'Bluesky could not be reached' };
    }
    const status = err.status;
    if (status === 429) {
      const retryAt = resetAt(err.headers, clock.now());
      this.blockedUntil = retryAt;
      return { kind: 'rate_limited', retryAt };
    }
    if (status === 1) {
      const timedOut = /abort|timeout/i.test(`${err.message} ${String((err.cause as Error)?.name ?? '')}`);
      return {
        kind: 'unavailable',
        reason: timedOut
          ? `Bluesky did not answer within ${this.timeoutMs / 1000} s`
          : 'Bluesky could not be reached',
      };
    }
    if (status === 2)
      return { kind: 'unavailable', reason: 'Bluesky answered with something carebot could not read' };
    if (status >= 500) return { kind: 'unavailable', reason: `Bluesky had an error (HTTP ${status})` };
    if (status === 401) {
      // Signed in a moment ago, and still refused: the account itself is barred, not the token.
      return {
        kind: 'auth_failed',
        reason: `Bluesky refuses the session it just gave ${this.account.identifier} (${err.error ?? 'HTTP 401'})`,
        hint: `Sign in to Bluesky as ${this.account.identifier} and check that the account is active and the app password still listed; carebot picks it up again once Bluesky accepts it.`,
      };
    }
    return {
      kind: 'refused',
      status,
      error: err.error ?? `HTTP ${status}`,
      message: err.message.slice(0, 200),
    };
  }
}

/** Bluesky's `ratelimit-reset` is epoch seconds (its `ratelimit-*` headers follow the IETF draft). */
export function resetAt(headers: Record<string, string | undefined> | undefined, now: Date): Date {
  const reset = Number(headers?.['ratelimit-reset']);
  if (Number.isFinite(reset) && reset > 0) return new Date(Math.max(reset * 1000, now.getTime() + 1000));
  const retryAfter = Number(headers?.['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return new Date(now.getTime() + retryAfter * 1000);
  return new Date(now.getTime() + RATE_LIMIT_FALLBACK);
}

/** What a person does when Bluesky refuses the app password. */
export function passwordHint(account: BlueskyAccount): string {
  const where =
    account.name === 'default'
      ? 'BLUESKY_IDENTIFIER and BLUESKY_APP_PASSWORD'
      : `identifier and app_password of the account "${account.name}" under sources.bluesky.accounts in carebot.config.yaml`;
  return (
    `Create a new app password at https://bsky.app/settings/app-passwords (signed in as ${account.identifier}) and put it in ${where}; ` +
    'an app password stops working when it is deleted there. carebot picks the account up again once it can sign in.'
  );
}
