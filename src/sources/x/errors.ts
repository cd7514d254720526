import { isRecord } from './client.js';
import type { XAccount } from './config.js';

/** What X said went wrong, from the v2 problem shape (`title`, `detail`, `type`, `errors[]`). */
export interface XProblem {
  title: string | undefined;
  detail: string | undefined;
  /** The problem type, e.g. `https://api.x.com/2/problems/client-forbidden` or `about:blank`. */
  type: string | undefined;
  /** `reason` of a client-forbidden problem, e.g. `client-not-enrolled`. */
  reason: string | undefined;
  /** Messages of `errors[]`, the shape of invalid requests (and of v1.1). */
  messages: string[];
}

export function xProblem(body: unknown): XProblem {
  const o = isRecord(body) ? body : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const messages = Array.isArray(o.errors)
    ? o.errors.flatMap((e) => {
        if (!isRecord(e)) return [];
        const m = str(e.message) ?? str(e.detail);
        return m ? [m] : [];
      })
    : [];
  return { title: str(o.title), detail: str(o.detail), type: str(o.type), reason: str(o.reason), messages };
}

/** X's explanation in one line, for a person to read: the most specific text X gave. */
export function describeProblem(problem: XProblem, status: number): string {
  const parts = problem.messages.length
    ? problem.messages
    : [problem.detail ?? problem.title ?? `HTTP ${status}`];
  const text = [...new Set(parts)].join('; ').replace(/\s+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * A 403 that means the app or its credentials cannot use the endpoint at all, as opposed to a
 * refusal of this one request (a duplicate post, a conversation closed to replies).
 */
export function isAccessProblem(problem: XProblem): boolean {
  const text = `${problem.title ?? ''} ${problem.type ?? ''} ${problem.reason ?? ''}`.toLowerCase();
  return /unsupported.authentication|client.forbidden|not-enrolled|oauth1-permissions|unauthorized/.test(
    text,
  );
}

/** Where the account's credentials are set: the environment for the default account, else the file. */
function whereToUpdate(account: XAccount): string {
  return account.name === 'default'
    ? 'update X_ACCESS_TOKEN and X_ACCESS_SECRET'
    : `update access_token and access_secret of the account "${account.name}" under sources.x.accounts in carebot.config.yaml`;
}

/** What a person does when X answers 401: the tokens were revoked, regenerated or mistyped. */
export function credentialsHint(account: XAccount): string {
  return (
    `In the X developer portal, open the app of @${account.name} (Keys and tokens), regenerate the ` +
    `access token and secret, ${whereToUpdate(account)}; carebot picks the account up again once they work.`
  );
}

/** What a person does when X answers 403 because of the app's setup rather than one request. */
export function accessHint(account: XAccount, problem: XProblem): string {
  const text = `${problem.type ?? ''} ${problem.reason ?? ''} ${problem.title ?? ''}`.toLowerCase();
  if (/not-enrolled|client.forbidden/.test(text)) {
    return (
      `The X app of @${account.name} is not attached to a Project with an access level that includes this ` +
      'endpoint: in the X developer portal, add the app to a Project on a plan with the v2 endpoints, then try again.'
    );
  }
  if (/oauth1-permissions/.test(text)) {
    return (
      `The X app of @${account.name} lacks a permission: in the X developer portal set its User authentication ` +
      `settings to "Read and write and Direct message", then regenerate the access token and secret and ${whereToUpdate(account)}.`
    );
  }
  return (
    `X refuses carebot's sign-in for @${account.name} (${problem.detail ?? problem.title ?? 'forbidden'}): ` +
    `carebot signs with OAuth 1.0a user context; check the app's keys in the X developer portal, regenerate ` +
    `the access token and secret, and ${whereToUpdate(account)}.`
  );
}
