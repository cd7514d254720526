import type { CheckDeps, CheckLine } from '../types.js';
import { isRecord, XUnreachable, xRequest } from './client.js';
import type { XAccount, XSettings } from './config.js';
import { accessHint, credentialsHint, describeProblem, xProblem } from './errors.js';

/** Each X account signs in (`GET /2/users/me`) as the user its `user_id` names. */
export async function checkX(settings: XSettings, deps: CheckDeps): Promise<CheckLine[]> {
  return Promise.all(settings.accounts.map((account) => checkAccount(account, settings.apiUrl, deps)));
}

async function checkAccount(account: XAccount, apiUrl: string, deps: CheckDeps): Promise<CheckLine> {
  const what = `X account "${account.name}"`;
  let res: Awaited<ReturnType<typeof xRequest>>;
  try {
    res = await xRequest(account, apiUrl, 'GET', '/2/users/me', { timeoutMs: deps.timeoutMs });
  } catch (err) {
    if (err instanceof XUnreachable)
      return { ok: false, what: `${what}: ${err.message}`, fix: 'check the network, or X_API_URL' };
    throw err;
  }
  if (res.status === 200) {
    const data = isRecord(res.body) && isRecord(res.body.data) ? res.body.data : {};
    const handle = typeof data.username === 'string' ? `@${data.username}` : 'the account';
    if (data.id !== account.userId)
      return {
        ok: false,
        what: `${what}: the access token belongs to ${handle} (user id ${String(data.id)}), not user id ${account.userId}`,
        fix:
          account.name === 'default'
            ? 'set X_USER_ID to that id, or generate the access token while signed in as the right account'
            : `set user_id of "${account.name}" under sources.x.accounts to that id, or generate the token as the right account`,
      };
    return { ok: true, what: `${what}: signs in as ${handle}` };
  }
  const problem = xProblem(res.body);
  const said = `X answered ${res.status}: ${describeProblem(problem, res.status)}`;
  if (res.status === 401) return { ok: false, what: `${what}: ${said}`, fix: credentialsHint(account) };
  if (res.status === 403) return { ok: false, what: `${what}: ${said}`, fix: accessHint(account, problem) };
  return { ok: false, what: `${what}: ${said}`, fix: 'try again later; if it stays, see status.x.com' };
}
