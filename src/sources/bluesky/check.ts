import type { CheckDeps, CheckLine } from '../types.js';
import { BlueskyClient } from './client.js';
import type { BlueskySettings } from './config.js';

/** Each Bluesky account signs in with its app password and reads its session (`getSession`). */
export async function checkBluesky(settings: BlueskySettings, deps: CheckDeps): Promise<CheckLine[]> {
  return Promise.all(
    settings.accounts.map(async (account): Promise<CheckLine> => {
      const client = new BlueskyClient(account, settings.serviceUrl, deps.timeoutMs);
      const what = `Bluesky account "${account.name}"`;
      const got = await client.call(deps.clock, (agent) => agent.com.atproto.server.getSession());
      if (got.ok) return { ok: true, what: `${what}: signs in as @${got.value.handle}` };
      const { problem } = got;
      switch (problem.kind) {
        case 'auth_failed':
          return { ok: false, what: `${what}: ${problem.reason}`, fix: problem.hint };
        case 'rate_limited':
          return {
            ok: false,
            what: `${what}: Bluesky says to wait (rate limited)`,
            fix: 'run the check again in a few minutes',
          };
        case 'unavailable':
          return {
            ok: false,
            what: `${what}: ${problem.reason}`,
            fix: 'check the network, or BLUESKY_SERVICE_URL',
          };
        case 'refused':
          return {
            ok: false,
            what: `${what}: Bluesky refused the sign-in (${problem.error}: ${problem.message})`,
            fix: 'check the identifier (a handle such as acme.bsky.social, or a DID) and BLUESKY_SERVICE_URL',
          };
      }
    }),
  );
}
