import type { CheckDeps, CheckLine } from '../types.js';
import { PlayClient } from './client.js';
import type { GooglePlaySettings } from './config.js';
import { googleError } from './errors.js';
import { reviewsList } from './normalize.js';

/** Each app signs in with its service account and reads one page of its reviews. */
export async function checkGooglePlay(settings: GooglePlaySettings, deps: CheckDeps): Promise<CheckLine[]> {
  return Promise.all(
    settings.accounts.map((account) =>
      checkApp(new PlayClient(account, settings.apiUrl, deps.timeoutMs), deps),
    ),
  );
}

async function checkApp(client: PlayClient, deps: CheckDeps): Promise<CheckLine> {
  const { account } = client;
  const what = `Google Play app ${account.packageName} ("${account.name}")`;
  const result = await client.request(deps.clock, 'GET', '/reviews', { query: { maxResults: 1 } });
  if (!result.ok) {
    const { problem } = result;
    if (problem.kind === 'auth_failed')
      return { ok: false, what: `${what}: ${problem.reason}`, fix: problem.hint };
    if (problem.kind === 'rate_limited')
      return {
        ok: false,
        what: `${what}: Google says to wait (quota)`,
        fix: 'run the check again in an hour (the reviews API allows 200 reads an hour)',
      };
    return {
      ok: false,
      what: `${what}: ${problem.reason}`,
      fix: 'check the network, or GOOGLE_PLAY_API_URL',
    };
  }
  const { status, body } = result.response;
  if (status !== 200 || !reviewsList.safeParse(body).success) {
    const { message } = googleError(body);
    return {
      ok: false,
      what: `${what}: Google Play answered the review list with HTTP ${status}${message ? ` (${message})` : ''}`,
      fix: 'check the package name, and that the service account was invited to the app in Play Console',
    };
  }
  return { ok: true, what: `${what}: ${client.clientEmail} reads its reviews` };
}
