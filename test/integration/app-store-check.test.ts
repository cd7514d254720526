import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeAppStore,
  fakeAppStoreAccount,
  fakeAppStoreKey,
  startFakeAppStore,
} from '../../emulators/app-store/api.js';
import { minutes } from '../../src/care/clock.js';
import { checkAppStore } from '../../src/sources/app_store/check.js';
import type { AppStoreSettings } from '../../src/sources/app_store/config.js';
import { ManualClock } from '../support/clock.js';

const key = fakeAppStoreKey();
const revokedKey = fakeAppStoreKey({ keyId: 'REVOKED001' });
const clock = new ManualClock('2026-11-23T10:00:00Z');

describe('App Store setup check', () => {
  let store: FakeAppStore;
  beforeAll(async () => {
    store = await startFakeAppStore({
      keys: [key, revokedKey],
      appIds: ['1234567890'],
      now: () => clock.now(),
    });
    store.revokeKey(revokedKey.keyId);
    store.addReview({ body: 'Nice' });
  });
  afterAll(async () => {
    await store.close();
  });

  it('lists one review of each app, read-only, and says what to do when it cannot', async () => {
    const settings: AppStoreSettings = {
      apiUrl: store.url,
      pollEvery: minutes(5),
      backfill: undefined,
      priorityByRating: {},
      accounts: [
        fakeAppStoreAccount(key),
        fakeAppStoreAccount(revokedKey, { name: 'old' }),
        fakeAppStoreAccount(key, { name: 'gone', appId: '999' }),
      ],
    };
    const lines = await checkAppStore(settings, {
      timeoutMs: 5000,
      clock,
      settingsOf: () => settings as never,
    });
    expect(lines[0]).toEqual({
      ok: true,
      what: 'App Store app "acme" (app 1234567890): reads customer reviews (latest one listed)',
    });
    expect(lines[1]).toMatchObject({ ok: false, what: expect.stringContaining('NOT_AUTHORIZED') });
    expect(lines[1]?.fix).toContain('revoked');
    expect(lines[2]).toMatchObject({ ok: false, what: expect.stringContaining('no such app') });
    expect(lines[2]?.fix).toContain('Customer Support');
    expect(store.calls.every((c) => c.method === 'GET' && c.query.limit === '1')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(key.privateKeyPem.split('\n')[1]);
  });
});
