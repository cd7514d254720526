import type { CheckDeps, CheckLine } from '../types.js';
import { AppStoreClient } from './client.js';
import type { AppStoreSettings } from './config.js';
import { accessHint, errorWords } from './errors.js';
import { reviewList, reviewsOf } from './normalize.js';

/** Each app's key signs a token and lists one review of the app (read-only). */
export async function checkAppStore(settings: AppStoreSettings, deps: CheckDeps): Promise<CheckLine[]> {
  return Promise.all(
    settings.accounts.map((account) =>
      checkApp(new AppStoreClient(account, settings.apiUrl, deps.timeoutMs), deps),
    ),
  );
}

async function checkApp(client: AppStoreClient, deps: CheckDeps): Promise<CheckLine> {
  const { account } = client;
  const what = `App Store app "${account.name}" (app ${account.appId})`;
  const result = await client.request(
    deps.clock,
    'GET',
    `/v1/apps/${account.appId}/customerReviews?sort=-createdDate&limit=1`,
  );
  if (!result.ok) {
    const { problem } = result;
    if (problem.kind === 'auth_failed')
      return { ok: false, what: `${what}: ${problem.reason}`, fix: problem.hint };
    if (problem.kind === 'rate_limited')
      return {
        ok: false,
        what: `${what}: App Store Connect says to wait (rate limited)`,
        fix: 'run the check again later',
      };
    return { ok: false, what: `${what}: ${problem.reason}`, fix: 'check the network, or APP_STORE_API_URL' };
  }
  const { status, body } = result.response;
  if (status === 404)
    return {
      ok: false,
      what: `${what}: App Store Connect has no such app for this key (${errorWords(body, status)})`,
      fix: accessHint(account),
    };
  const parsed = reviewList.safeParse(body);
  if (status !== 200 || !parsed.success)
    return {
      ok: false,
      what: `${what}: App Store Connect answered the reviews list with ${errorWords(body, status)}`,
      fix: 'try again later; if it persists, check APP_STORE_API_URL',
    };
  const count = reviewsOf(parsed.data).reviews.length;
  return {
    ok: true,
    what: `${what}: reads customer reviews (${count === 0 ? 'none yet' : 'latest one listed'})`,
  };
}
