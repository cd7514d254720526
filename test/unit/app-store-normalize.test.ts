import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeAppStoreAccount, fakeAppStoreKey } from '../../emulators/app-store/api.js';
import { loadConfig, settingsOf } from '../../src/config.js';
import { hourlyRemaining, retryAtOf } from '../../src/sources/app_store/client.js';
import { appStoreConfig } from '../../src/sources/app_store/config.js';
import { errorWords } from '../../src/sources/app_store/errors.js';
import { normalizeReview, reviewList, reviewsOf } from '../../src/sources/app_store/normalize.js';
import { readPrivateKey } from '../../src/sources/app_store/token.js';
import { EMPTY_CONFIG } from '../support/carebot.js';

const key = fakeAppStoreKey();
const account = fakeAppStoreAccount(key);
const byRating = { '1': 'P2', '2': 'P2' } as const;

// Shaped as Apple's "List all customer reviews for an app" example, with `include=response`.
const page = {
  data: [
    {
      type: 'customerReviews',
      id: '00000028-b08c-0014-729e-fbd500000001',
      attributes: {
        rating: 1,
        title: 'Crashes on launch',
        body: 'Since the update <!channel> the app closes right away & I lost my notes.',
        reviewerNickname: 'Anne J.',
        createdDate: '2026-11-23T02:10:34-08:00',
        territory: 'DEU',
      },
      relationships: {
        response: {
          links: {
            self: 'https://api.appstoreconnect.apple.com/v1/customerReviews/00000028-b08c-0014-729e-fbd500000001/relationships/response',
            related:
              'https://api.appstoreconnect.apple.com/v1/customerReviews/00000028-b08c-0014-729e-fbd500000001/response',
          },
          data: null,
        },
      },
      links: {
        self: 'https://api.appstoreconnect.apple.com/v1/customerReviews/00000028-b08c-0014-729e-fbd500000001',
      },
    },
    {
      type: 'customerReviews',
      id: '00000028-b08c-0014-729e-fbd500000002',
      attributes: {
        rating: 4,
        title: 'Good, one bug',
        body: 'Sync is slow.',
        reviewerNickname: 'bob',
        createdDate: '2026-11-22T08:00:00-08:00',
        territory: 'USA',
      },
      relationships: {
        response: { data: { type: 'customerReviewResponses', id: '00000040-c08c-0014-729e-fbd500000009' } },
      },
    },
  ],
  included: [
    {
      type: 'customerReviewResponses',
      id: '00000040-c08c-0014-729e-fbd500000009',
      attributes: {
        responseBody: 'Thanks! A fix is on its way.',
        lastModifiedDate: '2026-11-22T09:00:00-08:00',
        state: 'PUBLISHED',
      },
    },
  ],
  links: {
    self: 'https://api.appstoreconnect.apple.com/v1/apps/1234567890/customerReviews?sort=-createdDate&limit=2&include=response',
    next: 'https://api.appstoreconnect.apple.com/v1/apps/1234567890/customerReviews?sort=-createdDate&limit=2&include=response&cursor=Mg',
  },
  meta: { paging: { total: 20, limit: 2 } },
};

describe('App Store normalize', () => {
  it('reads a page of reviews, and which already have a response', () => {
    const parsed = reviewList.parse(page);
    const { reviews, answered, unreadable } = reviewsOf(parsed);
    expect(reviews.map((r) => r.id)).toEqual([page.data[0]?.id, page.data[1]?.id]);
    expect([...answered]).toEqual([page.data[1]?.id]);
    expect(unreadable).toBe(0);
    expect(parsed.links?.next).toContain('cursor=Mg');
  });

  it('makes a review its own case, with stars, territory and the least priority of its rating', () => {
    const [review] = reviewsOf(reviewList.parse(page)).reviews;
    if (!review) throw new Error('expected a review');
    expect(normalizeReview(account, review, { priorityByRating: byRating, answered: false })).toEqual({
      sourceKey: 'app_store:1234567890',
      platform: 'app_store',
      externalId: '00000028-b08c-0014-729e-fbd500000001',
      conversationId: '00000028-b08c-0014-729e-fbd500000001',
      author: { id: 'nickname:Anne J.', name: 'Anne J.' },
      text: 'Crashes on launch\n\nSince the update <!channel> the app closes right away & I lost my notes.',
      url: 'https://apps.apple.com/app/id1234567890',
      sentAt: new Date('2026-11-23T10:10:34Z'),
      channelId: 'C0ASCARE01',
      facts: ['★☆☆☆☆ 1 of 5', 'territory: DEU'],
      priority: { at: 'P2', reason: '1-star review' },
    });
  });

  it('says when a review was already answered in App Store Connect, and asks no priority for 4 stars', () => {
    const [, review] = reviewsOf(reviewList.parse(page)).reviews;
    if (!review) throw new Error('expected a review');
    const message = normalizeReview(account, review, { priorityByRating: byRating, answered: true });
    expect(message.facts).toEqual([
      '★★★★☆ 4 of 5',
      'territory: USA',
      'already answered in App Store Connect',
    ]);
    expect(message.priority).toBeUndefined();
  });

  it('skips what is not a readable review, and keeps a rating without text', () => {
    const { reviews, unreadable } = reviewsOf(
      reviewList.parse({
        data: [
          {
            type: 'customerReviews',
            id: 'x',
            attributes: { rating: 9, createdDate: '2026-11-23T10:00:00Z' },
          },
          {
            type: 'customerReviews',
            id: 'y',
            attributes: { rating: 2, createdDate: '2026-11-23T10:00:00Z' },
          },
        ],
      }),
    );
    expect(unreadable).toBe(1);
    const [review] = reviews;
    if (!review) throw new Error('expected a review');
    const message = normalizeReview(account, review, { priorityByRating: byRating, answered: false });
    expect(message.text).toBe('(2-star rating without text)');
    expect(message.author).toEqual({ id: 'nickname:an App Store customer', name: 'an App Store customer' });
  });

  it("reads Apple's JSON:API errors and X-Rate-Limit header", () => {
    expect(
      errorWords(
        {
          errors: [
            {
              id: 'a',
              status: '409',
              code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
              title: 'An attribute value is invalid.',
              detail: 'The response body contains words that are not allowed.',
            },
          ],
        },
        409,
      ),
    ).toBe('The response body contains words that are not allowed. (ENTITY_ERROR.ATTRIBUTE.INVALID)');
    expect(errorWords('<html>', 502)).toBe('HTTP 502');
    const headers = new Headers({ 'x-rate-limit': 'user-hour-lim:3600;user-hour-rem:0;' });
    expect(hourlyRemaining(headers)).toBe(0);
    const now = new Date('2026-11-23T10:00:00Z');
    expect(retryAtOf(new Headers({ 'retry-after': '30' }), now)).toEqual(new Date('2026-11-23T10:00:30Z'));
    expect(retryAtOf(headers, now)).toEqual(new Date('2026-11-23T10:05:00Z'));
  });
});

describe('App Store key and config', () => {
  it('takes the .p8 key as text, as text with \\n escapes, or as a path', async () => {
    expect(await readPrivateKey(key.privateKeyPem)).toEqual({ ok: true, pem: key.privateKeyPem.trim() });
    const escaped = key.privateKeyPem.trim().replace(/\n/g, '\\n');
    expect(await readPrivateKey(escaped)).toEqual({ ok: true, pem: key.privateKeyPem.trim() });
    const path = join(mkdtempSync(join(tmpdir(), 'carebot-p8-')), 'AuthKey_2X9R4HXF34.p8');
    writeFileSync(path, key.privateKeyPem);
    expect(await readPrivateKey(path)).toEqual({ ok: true, pem: key.privateKeyPem.trim() });
    const missing = await readPrivateKey('/nowhere/AuthKey.p8');
    expect(missing).toEqual({
      ok: false,
      reason: 'the private key is neither PEM text nor the path of an existing file',
    });
  });

  it('turns the APP_STORE_* variables into the default app, with the defaults', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      CARE_CHANNEL_ID: 'C0CARE0001',
      CARE_CONFIG: EMPTY_CONFIG,
      APP_STORE_ISSUER_ID: key.issuerId,
      APP_STORE_KEY_ID: key.keyId,
      APP_STORE_PRIVATE_KEY: key.privateKeyPem,
      APP_STORE_APP_ID: '1234567890',
    };
    const settings = settingsOf(loadConfig(env), appStoreConfig);
    expect(settings).toMatchObject({
      apiUrl: 'https://api.appstoreconnect.apple.com',
      pollEvery: 5 * 60_000,
      backfill: undefined,
      priorityByRating: { '1': 'P2', '2': 'P2' },
      accounts: [{ name: 'default', appId: '1234567890', keyId: key.keyId, channel: 'C0CARE0001' }],
    });
    expect(() => loadConfig({ ...env, APP_STORE_APP_ID: '' })).toThrow(/APP_STORE_APP_ID: missing/);
  });
});
