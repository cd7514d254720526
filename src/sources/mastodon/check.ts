import type { CheckDeps, CheckLine } from '../types.js';
import { learnInstanceLimit, verifyCredentials } from './account.js';
import { MastodonClient } from './client.js';
import type { MastodonSettings } from './config.js';

/** Each account signs in (`verify_credentials`) and reads its instance's status length. */
export async function checkMastodon(settings: MastodonSettings, deps: CheckDeps): Promise<CheckLine[]> {
  return Promise.all(
    settings.accounts.map(async (account): Promise<CheckLine> => {
      const client = new MastodonClient(account, deps.timeoutMs);
      const what = `Mastodon account "${account.name}"`;
      const verified = await verifyCredentials(client, deps.clock);
      if (!verified.ok) {
        const { problem } = verified;
        if (problem.kind === 'auth_failed')
          return { ok: false, what: `${what}: ${problem.reason}`, fix: problem.hint };
        if (problem.kind === 'rate_limited')
          return {
            ok: false,
            what: `${what}: ${client.host} says to wait (rate limited)`,
            fix: 'run the check again in a few minutes',
          };
        return {
          ok: false,
          what: `${what}: ${problem.reason}`,
          fix: 'check the network, and the instance address',
        };
      }
      const limit = await learnInstanceLimit(client, deps.clock);
      return {
        ok: true,
        what: `${what}: signs in as @${verified.me.acct}@${client.host}; statuses up to ${limit} characters`,
      };
    }),
  );
}
