import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  credentialsOf,
  type FakeBluesky,
  fakeBlueskyAccount,
  startFakeBluesky,
} from '../../emulators/bluesky/api.js';
import { minutes } from '../../src/care/clock.js';
import { checkBluesky } from '../../src/sources/bluesky/check.js';
import type { CheckDeps } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';

const brand = fakeBlueskyAccount({ name: 'default' });
const revoked = fakeBlueskyAccount({
  name: 'old',
  identifier: 'old.acme.com',
  appPassword: 'gone-gone-gone-gone',
});

describe('Bluesky setup check', () => {
  let bsky: FakeBluesky;
  beforeAll(async () => {
    bsky = await startFakeBluesky({ credentials: [credentialsOf(brand), credentialsOf(revoked)] });
    bsky.revokeAppPassword('old.acme.com');
  });
  afterAll(async () => {
    await bsky.close();
  });

  it('signs each account in, reads its session and names the handle; a revoked app password says what to do', async () => {
    const deps = { timeoutMs: 5000, clock: new ManualClock() } as unknown as CheckDeps;
    const lines = await checkBluesky(
      { serviceUrl: bsky.url, pollEvery: minutes(1), backfill: undefined, accounts: [brand, revoked] },
      deps,
    );
    expect(lines[0]).toEqual({ ok: true, what: 'Bluesky account "default": signs in as @acme.bsky.social' });
    expect(lines[1]).toMatchObject({ ok: false });
    expect(lines[1]?.what).toContain('did not accept the app password');
    expect(lines[1]?.fix).toContain('https://bsky.app/settings/app-passwords');
    expect(JSON.stringify(lines)).not.toContain(revoked.appPassword);
    expect(JSON.stringify(lines)).not.toContain(brand.appPassword);
    // Read-only: nothing was posted.
    expect(bsky.sent).toEqual([]);
    expect(bsky.callsTo('com.atproto.server.getSession').length).toBeGreaterThan(0);
  });
});
