import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { fakePlayAccount } from '../../emulators/google-play/api.js';
import { serviceAccountKey, signAssertion } from '../../src/sources/google_play/credentials.js';
import {
  androidVersion,
  developerReplyOf,
  normalizeReview,
  playReview,
  readableText,
  reviewsList,
  userCommentOf,
} from '../../src/sources/google_play/normalize.js';

const account = fakePlayAccount();

/** A `reviews.list` answer shaped as the Android Publisher reference shows it (int64 seconds as strings). */
const listed = {
  pageInfo: { totalResults: 2, resultPerPage: 100, startIndex: 0 },
  tokenPagination: { nextPageToken: 'NEXT' },
  reviews: [
    {
      reviewId: '12345678',
      authorName: 'Jane Doe',
      comments: [
        {
          userComment: {
            text: 'Crashes on start\tSince the update the app closes right after the splash screen.',
            lastModified: { seconds: '1795946400', nanos: 123000000 },
            starRating: 1,
            reviewerLanguage: 'en',
            device: 'panther',
            androidOsVersion: 34,
            appVersionCode: 4021,
            appVersionName: '4.2.1',
            thumbsUpCount: 3,
            thumbsDownCount: 0,
            deviceMetadata: {
              productName: 'panther (Pixel 7)',
              manufacturer: 'Google',
              deviceClass: 'phone',
              screenWidthPx: 1080,
              screenHeightPx: 2400,
              nativePlatform: 'armeabi-v7a,arm64-v8a',
              screenDensityDpi: 420,
              glEsVersion: 196610,
              cpuModel: 'Tensor G2',
              cpuMake: 'Google',
              ramMb: 8192,
            },
          },
        },
        {
          developerComment: {
            text: 'Sorry! A fix is on its way.',
            lastModified: { seconds: '1795950000', nanos: 0 },
          },
        },
      ],
    },
    {
      reviewId: '87654321',
      authorName: '',
      comments: [
        {
          userComment: {
            text: '\tGood',
            lastModified: { seconds: '1795946000', nanos: 0 },
            starRating: 2,
            device: 'a52q',
            androidOsVersion: 99,
          },
        },
      ],
    },
  ],
};

describe('Google Play reviews', () => {
  const list = reviewsList.parse(listed);
  const first = playReview.parse(list.reviews[0]);
  const second = playReview.parse(list.reviews[1]);

  it('reads a review as the reference shows it, with the brand reply apart', () => {
    expect(list.tokenPagination?.nextPageToken).toBe('NEXT');
    expect(userCommentOf(first)?.lastModified.seconds).toBe(1795946400);
    expect(developerReplyOf(first)?.text).toBe('Sorry! A fix is on its way.');
    expect(developerReplyOf(second)).toBeUndefined();
  });

  it('turns a review into a message: readable text, facts, a priority from the stars', () => {
    const comment = userCommentOf(first);
    if (!comment) throw new Error('no user comment');
    const message = normalizeReview(account, first, comment);
    expect(message).toMatchObject({
      sourceKey: 'google_play:com.acme.shop',
      platform: 'google_play',
      externalId: '12345678:1795946400',
      conversationId: '12345678',
      author: { id: 'review:12345678', name: 'Jane Doe' },
      text: 'Crashes on start\n\nSince the update the app closes right after the splash screen.',
      url: 'https://play.google.com/store/apps/details?id=com.acme.shop&reviewId=12345678',
      sentAt: new Date(1795946400 * 1000),
      channelId: 'C0PLAYCARE',
      facts: ['★☆☆☆☆ 1 of 5', 'app 4.2.1', 'panther (Pixel 7) · Android 14', 'language: en'],
      priority: { at: 'P2', reason: '1-star review' },
    });
  });

  it('says what an edit changed, and names a review without an author or words', () => {
    const comment = userCommentOf(second);
    if (!comment) throw new Error('no user comment');
    const edited = normalizeReview(account, second, comment, 5);
    expect(edited.author.name).toBe('A Google Play user');
    expect(edited.text).toBe('Good');
    expect(edited.facts).toEqual(['★★☆☆☆ 2 of 5', 'a52q · Android API 99', 'edited review: was 5★']);
    expect(normalizeReview(account, second, comment, 2).facts?.at(-1)).toBe('edited review');
    const bare = normalizeReview(account, second, { ...comment, text: '' });
    expect(bare.text).toBe('(a 2-star rating without text)');
  });

  it('takes the priority map of the app: no entry, no priority', () => {
    const comment = userCommentOf(first);
    if (!comment) throw new Error('no user comment');
    const calm = fakePlayAccount({ priorityByRating: { 3: 'P3' } });
    expect(normalizeReview(calm, first, comment).priority).toBeUndefined();
    const loud = fakePlayAccount({ priorityByRating: { 1: 'P1' } });
    expect(normalizeReview(loud, first, comment).priority).toEqual({ at: 'P1', reason: '1-star review' });
  });

  it('makes a title and body readable and maps SDK levels to Android versions', () => {
    expect(readableText('Title\tBody\twith tab')).toBe('Title\n\nBody with tab');
    expect(readableText('Just a body\r\nline two')).toBe('Just a body\nline two');
    expect(androidVersion(33)).toBe('Android 13');
    expect(androidVersion(32)).toBe('Android 12L');
  });
});

describe('the service account grant', () => {
  it('is an RS256 JWT to the token_uri with the publisher scope, an hour at most, and the key id', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = serviceAccountKey.parse({
      type: 'service_account',
      project_id: 'acme',
      private_key_id: 'abc123',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'care@acme.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: 'http://127.0.0.1:9/token',
    });
    const jwt = await signAssertion(key, new Date('2026-11-23T10:00:00Z'));
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'abc123' });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({
      iss: 'care@acme.iam.gserviceaccount.com',
      aud: 'http://127.0.0.1:9/token',
      scope: 'https://www.googleapis.com/auth/androidpublisher',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(3600);
  });

  it('takes Google’s token endpoint when the key file names none', () => {
    const parsed = serviceAccountKey.safeParse({
      type: 'service_account',
      private_key: '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----',
      private_key_id: 'x',
      client_email: 'a@b.c',
    });
    expect(parsed.success && parsed.data.token_uri).toBe('https://oauth2.googleapis.com/token');
    expect(serviceAccountKey.safeParse({ type: 'authorized_user' }).success).toBe(false);
  });
});
