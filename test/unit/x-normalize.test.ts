import { describe, expect, it } from 'vitest';
import { fakeXAccount } from '../../emulators/x/api.js';
import { describeProblem, isAccessProblem, xProblem } from '../../src/sources/x/errors.js';
import { X_MAX_WEIGHTED_LENGTH, xLength } from '../../src/sources/x/limits.js';
import {
  activityTweet,
  activityTweetSkipReason,
  normalizeActivityDm,
  normalizeActivityTweet,
  normalizeDmEvent,
  normalizeTweet,
  tweetSkipReason,
  type XTweet,
  type XUser,
} from '../../src/sources/x/normalize.js';
import { compareIds, xSearchQuery } from '../../src/sources/x/poller.js';
import { verifyXSignature, xCrcResponse } from '../../src/sources/x/webhook.js';

const account = fakeXAccount({ channel: 'CXCARE' });
const received = new Date('2026-11-23T10:00:00Z');
// Past 2^53: Number() would turn it into 1862000000000000000.
const BIG_ID = '1862000000000000123';

const jane: XUser = {
  id: '42',
  name: 'Jane Doe',
  username: 'jane',
  public_metrics: { followers_count: 12_345 },
};
const tweet = (over: Partial<XTweet> = {}): XTweet => ({
  id: BIG_ID,
  text: 'Hi @brand my order &lt;#123&gt; never arrived &amp; nobody answers',
  author_id: '42',
  created_at: '2026-11-23T09:59:00.000Z',
  conversation_id: '1862000000000000001',
  ...over,
});

describe('X normalize', () => {
  it('turns a v2 post and its expanded author into an inbound message, ids as strings', () => {
    const message = normalizeTweet(account, tweet(), new Map([['42', jane]]), received);
    expect(message).toEqual({
      sourceKey: `x:${account.userId}`,
      platform: 'x',
      externalId: BIG_ID,
      conversationId: '1862000000000000001',
      author: { id: '42', name: 'Jane Doe', handle: 'jane', url: 'https://x.com/jane', followers: 12_345 },
      text: 'Hi @brand my order <#123> never arrived & nobody answers',
      url: `https://x.com/jane/status/${BIG_ID}`,
      sentAt: new Date('2026-11-23T09:59:00Z'),
      channelId: 'CXCARE',
    });
  });

  it('falls back to the post id for the conversation and still links a post whose author is unknown', () => {
    const message = normalizeTweet(
      account,
      tweet({ conversation_id: undefined, created_at: undefined }),
      new Map(),
      received,
    );
    expect(message.conversationId).toBe(BIG_ID);
    expect(message.author).toEqual({
      id: '42',
      name: undefined,
      handle: undefined,
      url: undefined,
      followers: undefined,
    });
    expect(message.url).toBe(`https://x.com/i/web/status/${BIG_ID}`);
    expect(message.sentAt).toEqual(received);
  });

  it("skips the account's own posts and retweets, not quotes or replies", () => {
    expect(tweetSkipReason(account, tweet({ author_id: account.userId }))).toBe('own post');
    expect(tweetSkipReason(account, tweet({ referenced_tweets: [{ type: 'retweeted', id: '1' }] }))).toBe(
      'retweet',
    );
    expect(
      tweetSkipReason(account, tweet({ referenced_tweets: [{ type: 'quoted', id: '1' }] })),
    ).toBeUndefined();
    expect(
      tweetSkipReason(account, tweet({ referenced_tweets: [{ type: 'replied_to', id: '1' }] })),
    ).toBeUndefined();
  });

  it('keys a direct message by the other participant', () => {
    const event = {
      id: '900',
      text: 'my card number is...',
      sender_id: '42',
      created_at: '2026-11-23T09:58:00Z',
    };
    const message = normalizeDmEvent(account, event, new Map([['42', jane]]), received);
    expect(message).toMatchObject({
      externalId: '900',
      conversationId: 'dm:42',
      author: { id: '42', handle: 'jane', followers: 12_345 },
      text: 'my card number is...',
      url: undefined,
      sentAt: new Date('2026-11-23T09:58:00Z'),
    });
    const own = { ...event, sender_id: account.userId, dm_conversation_id: `42-${account.userId}` };
    expect(normalizeDmEvent(account, own, new Map(), received).conversationId).toBe('dm:42');
  });

  it('reads the Account Activity (v1.1) tweet shape: embedded user, full text, v1.1 dates', () => {
    const parsed = activityTweet.parse({
      id_str: BIG_ID,
      id: 1862000000000000000,
      text: 'truncated…',
      truncated: true,
      extended_tweet: { full_text: '@brand a long complaint &amp; more' },
      created_at: 'Wed Oct 10 20:19:24 +0000 2018',
      in_reply_to_status_id_str: null,
      user: { id_str: '42', screen_name: 'jane', name: 'Jane Doe', followers_count: 7 },
    });
    expect(activityTweetSkipReason(account, parsed)).toBeUndefined();
    expect(normalizeActivityTweet(account, parsed, BIG_ID, received)).toMatchObject({
      externalId: BIG_ID,
      conversationId: BIG_ID,
      author: { id: '42', handle: 'jane', url: 'https://x.com/jane', followers: 7 },
      text: '@brand a long complaint & more',
      url: `https://x.com/jane/status/${BIG_ID}`,
      sentAt: new Date('2018-10-10T20:19:24Z'),
    });
    const retweet = activityTweet.parse({
      id_str: '5',
      text: 'RT',
      user: { id_str: '42' },
      retweeted_status: {},
    });
    expect(activityTweetSkipReason(account, retweet)).toBe('retweet');
    const own = activityTweet.parse({ id_str: '6', text: 'hi', user: { id_str: account.userId } });
    expect(activityTweetSkipReason(account, own)).toBe('own post');
  });

  it("reads an Account Activity direct message and skips the account's own", () => {
    const event = {
      type: 'message_create',
      id: '1862000000000000777',
      created_timestamp: '1795428000000',
      message_create: {
        target: { recipient_id: account.userId },
        sender_id: '42',
        message_data: { text: 'Please help' },
      },
    };
    const users = { '42': { id: '42', name: 'Jane Doe', screen_name: 'jane', followers_count: 3 } };
    expect(normalizeActivityDm(account, event, users, received)).toMatchObject({
      externalId: '1862000000000000777',
      conversationId: 'dm:42',
      author: { id: '42', name: 'Jane Doe', handle: 'jane', followers: 3 },
      text: 'Please help',
      url: undefined,
      sentAt: new Date(1795428000000),
    });
    const own = { ...event, message_create: { ...event.message_create, sender_id: account.userId } };
    expect(normalizeActivityDm(account, own, users, received)).toBeUndefined();
    expect(normalizeActivityDm(account, { type: 'message_read', id: '1' }, users, received)).toBeUndefined();
  });
});

describe('X webhook crypto', () => {
  it('answers the CRC challenge with the value openssl computes', () => {
    // printf %s crc-token-1234 | openssl dgst -sha256 -hmac consumer-secret-abc -binary | base64
    expect(xCrcResponse('crc-token-1234', 'consumer-secret-abc')).toBe(
      'sha256=n9BTVsx86jugLNDJzKc8mnNCVI0u12HF0DLiYXUImYA=',
    );
  });

  it('accepts only the signature of the exact body under the consumer secret', () => {
    const body = '{"for_user_id":"1"}';
    // printf %s '{"for_user_id":"1"}' | openssl dgst -sha256 -hmac consumer-secret-abc -binary | base64
    const good = 'sha256=Mf03WihqBmDMRdk0rkyCHNcdaUPFj2Lutyr9L6kAE2c=';
    expect(verifyXSignature(body, good, 'consumer-secret-abc')).toBe(true);
    expect(verifyXSignature(`${body} `, good, 'consumer-secret-abc')).toBe(false);
    expect(verifyXSignature(body, good, 'another-secret')).toBe(false);
    expect(verifyXSignature(body, undefined, 'consumer-secret-abc')).toBe(false);
    expect(verifyXSignature(body, 'sha256=short', 'consumer-secret-abc')).toBe(false);
  });
});

describe('X limits and queries', () => {
  it('counts length as X does', () => {
    expect(X_MAX_WEIGHTED_LENGTH).toBe(280);
    expect(xLength('hello')).toBe(5);
    // Any link counts 23, emoji and CJK count 2.
    expect(xLength('see https://example.com/a/very/long/path/that/goes/on')).toBe(4 + 23);
    expect(xLength('😀')).toBe(2);
    expect(xLength('日本')).toBe(4);
  });

  it('builds the keyword search: OR-ed, phrases quoted, no retweets, not from the account', () => {
    expect(xSearchQuery({ userId: '99', keywords: ['acme', 'late delivery', 'acme.com', 'say "hi"'] })).toBe(
      '(acme OR "late delivery" OR "acme.com" OR "say hi") -is:retweet -from:99',
    );
    expect(xSearchQuery({ userId: '99', keywords: ['acme'] })).toBe('acme -is:retweet -from:99');
    expect(xSearchQuery({ userId: '99', keywords: [] })).toBeUndefined();
  });

  it('orders snowflake ids as strings', () => {
    expect(compareIds('1862000000000000123', '1862000000000000124')).toBeLessThan(0);
    expect(compareIds('999', '1000')).toBeLessThan(0);
    expect(compareIds('5', '5')).toBe(0);
  });

  it("reads X's error shapes", () => {
    const invalid = xProblem({
      errors: [{ parameters: { since_id: ['1'] }, message: 'Invalid since_id' }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    });
    expect(describeProblem(invalid, 400)).toBe('Invalid since_id');
    const notEnrolled = xProblem({
      title: 'Client Forbidden',
      detail:
        'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.',
      reason: 'client-not-enrolled',
      type: 'https://api.x.com/2/problems/client-forbidden',
    });
    expect(isAccessProblem(notEnrolled)).toBe(true);
    expect(
      isAccessProblem(xProblem({ title: 'Forbidden', detail: 'duplicate content', type: 'about:blank' })),
    ).toBe(false);
    expect(describeProblem(xProblem('<html>bad gateway</html>'), 502)).toBe('HTTP 502');
  });
});
