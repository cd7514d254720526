import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeMastodon, fakeMastodonAccount, startFakeMastodon } from '../../emulators/mastodon/api.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { checkMastodon } from '../../src/sources/mastodon/check.js';
import type { CheckDeps } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

describe('Mastodon setup check', () => {
  let mastodon: FakeMastodon;
  beforeAll(async () => {
    mastodon = await startFakeMastodon({
      accounts: [{ token: 'mst-check-token', username: 'acme' }],
      maxCharacters: 5000,
    });
  });
  afterAll(async () => {
    await mastodon.close();
  });
  const deps: CheckDeps = {
    timeoutMs: seconds(5),
    clock: new ManualClock('2026-11-23T10:00:00Z'),
    settingsOf: () => {
      throw new Error('not used');
    },
  };

  it('names the account it signs in as and the instance limit; a bad token says what to do', async () => {
    const good = fakeMastodonAccount({ name: 'default', url: mastodon.url, accessToken: 'mst-check-token' });
    const bad = fakeMastodonAccount({ name: 'help', url: mastodon.url, accessToken: 'mst-wrong-token' });
    const lines = await checkMastodon(
      { pollEvery: minutes(1), backfill: undefined, accounts: [good, bad] },
      deps,
    );
    expect(lines[0]).toEqual({
      ok: true,
      what: `Mastodon account "default": signs in as @acme@${mastodon.host}; statuses up to 5000 characters`,
    });
    expect(lines[1]?.ok).toBe(false);
    expect(lines[1]?.what).toContain('The access token is invalid');
    expect(lines[1]?.fix).toContain('access_token of the account "help" under sources.mastodon.accounts');
    expect(JSON.stringify(lines)).not.toContain('mst-wrong-token');
    // Read-only: nothing was posted.
    expect(mastodon.callsTo('POST', '/')).toHaveLength(0);
  });
});
