import type { CheckDeps, CheckLine } from '../types.js';
import { RedditClient } from './client.js';
import type { RedditAccount, RedditSettings } from './config.js';
import { isRecord } from './errors.js';

/** Each Reddit account signs in (the password grant) and reads itself (`GET /api/v1/me`). */
export async function checkReddit(settings: RedditSettings, deps: CheckDeps): Promise<CheckLine[]> {
  const urls = { apiUrl: settings.apiUrl, authUrl: settings.authUrl };
  return Promise.all(
    settings.accounts.map((account) => checkAccount(new RedditClient(account, urls, deps.timeoutMs), deps)),
  );
}

async function checkAccount(client: RedditClient, deps: CheckDeps): Promise<CheckLine> {
  const account: RedditAccount = client.account;
  const what = `Reddit account "${account.name}"`;
  const result = await client.request(deps.clock, 'GET', '/api/v1/me');
  if (!result.ok) {
    const { problem } = result;
    if (problem.kind === 'auth_failed')
      return { ok: false, what: `${what}: ${problem.reason}`, fix: problem.hint };
    if (problem.kind === 'rate_limited')
      return {
        ok: false,
        what: `${what}: Reddit says to wait (rate limited)`,
        fix: 'run the check again in a few minutes',
      };
    return { ok: false, what: `${what}: ${problem.reason}`, fix: 'check the network, or REDDIT_API_URL' };
  }
  const { status, body } = result.response;
  const name = isRecord(body) && typeof body.name === 'string' ? body.name : undefined;
  if (status !== 200 || !name)
    return {
      ok: false,
      what: `${what}: Reddit answered /api/v1/me with HTTP ${status}`,
      fix: 'check that the app at https://www.reddit.com/prefs/apps is of type "script" and try again later',
    };
  if (name.toLowerCase() !== account.username.toLowerCase())
    return {
      ok: false,
      what: `${what}: signed in as u/${name}, not u/${account.username}`,
      fix: 'check the username configured for this account',
    };
  return { ok: true, what: `${what}: signs in as u/${name}` };
}
