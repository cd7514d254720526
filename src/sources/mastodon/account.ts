import type { Clock } from '../../care/clock.js';
import { isRecord, type MastodonClient, type MastodonProblem } from './client.js';
import { learnMaxCharacters, MASTODON_DEFAULT_MAX_CHARACTERS } from './limits.js';
import { type MastodonAccountEntity, mastodonAccount } from './normalize.js';

export type Verified = { ok: true; me: MastodonAccountEntity } | { ok: false; problem: MastodonProblem };

/**
 * Who the token signs in as (`GET /api/v1/accounts/verify_credentials`): the brand, whose own
 * statuses never become cases and whose handle the check names.
 */
export async function verifyCredentials(client: MastodonClient, clock: Clock): Promise<Verified> {
  const result = await client.request(clock, 'GET', '/api/v1/accounts/verify_credentials');
  if (!result.ok) return result;
  const { status, body } = result.response;
  const parsed = mastodonAccount.safeParse(body);
  if (status === 200 && parsed.success) return { ok: true, me: parsed.data };
  return {
    ok: false,
    problem: {
      kind: 'unavailable',
      reason:
        status === 200
          ? `${client.host} answered verify_credentials with something that is not a Mastodon account; is ${client.account.url} a Mastodon instance?`
          : `${client.host} answered verify_credentials with HTTP ${status}`,
    },
  };
}

/**
 * The instance's status length (`GET /api/v2/instance` → `configuration.statuses.max_characters`),
 * remembered for the tone check; Mastodon's 500 when the instance does not say or cannot be asked.
 */
export async function learnInstanceLimit(client: MastodonClient, clock: Clock): Promise<number> {
  const result = await client.request(clock, 'GET', '/api/v2/instance');
  const body = result.ok && result.response.status === 200 ? result.response.body : undefined;
  const configuration = isRecord(body) && isRecord(body.configuration) ? body.configuration : {};
  const statuses = isRecord(configuration.statuses) ? configuration.statuses : {};
  const max = statuses.max_characters;
  const known = typeof max === 'number' && Number.isInteger(max) && max > 0;
  const limit = known ? max : MASTODON_DEFAULT_MAX_CHARACTERS;
  // Only a real answer is remembered: a failed ask is asked again next time.
  if (known || (result.ok && result.response.status < 500)) learnMaxCharacters(client.account.name, limit);
  return limit;
}
