import { describe, expect, it } from 'vitest';
import { fakeRedditAccount } from '../../emulators/reddit/api.js';
import { redditResetAt } from '../../src/sources/reddit/client.js';
import { commentRefusal, rateLimitWait, redditApiErrors } from '../../src/sources/reddit/errors.js';
import {
  compareFullnames,
  normalizeComment,
  normalizePost,
  type RedditThing,
  skipReason,
  thingsOf,
} from '../../src/sources/reddit/normalize.js';

const account = fakeRedditAccount({ keywords: ['refund'] });
const created = Date.parse('2026-11-23T10:00:00Z') / 1000;

const post = {
  name: 't3_1abcde',
  title: 'Where is my refund?',
  selftext: 'Ordered on the 1st & nothing <yet>.',
  author: 'jane_doe',
  created_utc: created,
  permalink: '/r/acme/comments/1abcde/where_is_my_refund/',
  is_self: true,
};
const comment = {
  name: 't1_lmnopq1',
  body: 'Same here',
  author: 'bob',
  created_utc: created + 60,
  link_id: 't3_1abcde',
  parent_id: 't3_1abcde',
  permalink: '/r/acme/comments/1abcde/where_is_my_refund/lmnopq1/',
  link_title: 'Where is my refund?',
};

describe('Reddit normalize', () => {
  it('makes a post its own conversation, with title and text', () => {
    expect(normalizePost(account, post)).toEqual({
      sourceKey: 'reddit:AcmeCare',
      platform: 'reddit',
      externalId: 't3_1abcde',
      conversationId: 't3_1abcde',
      author: {
        id: 'jane_doe',
        name: 'jane_doe',
        handle: 'jane_doe',
        url: 'https://www.reddit.com/user/jane_doe',
      },
      text: 'Where is my refund?\n\nOrdered on the 1st & nothing <yet>.',
      url: 'https://www.reddit.com/r/acme/comments/1abcde/where_is_my_refund/',
      sentAt: new Date('2026-11-23T10:00:00Z'),
      channelId: 'CRDCARE',
    });
    expect(normalizePost(account, { ...post, selftext: '' }).text).toBe('Where is my refund?');
    expect(
      normalizePost(account, { ...post, selftext: '', is_self: false, url: 'https://i.imgur.com/x.png' })
        .text,
    ).toBe('Where is my refund?\n\nhttps://i.imgur.com/x.png');
  });

  it("puts a comment in its post's conversation, from a listing or from the inbox", () => {
    expect(normalizeComment(account, comment)).toMatchObject({
      externalId: 't1_lmnopq1',
      conversationId: 't3_1abcde',
      text: 'Same here',
      url: 'https://www.reddit.com/r/acme/comments/1abcde/where_is_my_refund/lmnopq1/',
      sentAt: new Date((created + 60) * 1000),
    });
    const { link_id: _, permalink: __, ...inbox } = comment;
    const fromInbox = normalizeComment(account, {
      ...inbox,
      context: '/r/acme/comments/1abcde/where_is_my_refund/lmnopq1/?context=3',
      was_comment: true,
    });
    expect(fromInbox).toMatchObject({
      conversationId: 't3_1abcde',
      url: 'https://www.reddit.com/r/acme/comments/1abcde/where_is_my_refund/lmnopq1/?context=3',
    });
  });

  it('skips own and deleted content, and what has no keyword', () => {
    const asThing = (data: object, kind: 't1' | 't3' = 't3') => ({ kind, data }) as RedditThing;
    expect(skipReason(account, asThing(post), true)).toBeUndefined();
    expect(skipReason(account, asThing({ ...post, author: 'acmecare' }), true)).toBe('own content');
    expect(skipReason(account, asThing({ ...post, author: '[deleted]' }), true)).toBe('deleted author');
    expect(skipReason(account, asThing({ ...post, title: 'Refunded already' }), true)).toBe('no keyword');
    expect(skipReason(account, asThing({ ...post, title: 'Refunded already' }), false)).toBeUndefined();
    // A comment counts when it or its post's title names a keyword.
    expect(skipReason(account, asThing(comment, 't1'), true)).toBeUndefined();
    expect(skipReason(account, asThing({ ...comment, link_title: 'hello' }, 't1'), true)).toBe('no keyword');
    expect(skipReason({ ...account, keywords: [] }, asThing({ ...post, title: 'x' }), true)).toBeUndefined();
  });

  it('reads posts and comments of a listing and counts what it cannot read', () => {
    const { things, unreadable } = thingsOf([
      { kind: 't3', data: post },
      { kind: 't1', data: comment },
      { kind: 't4', data: { name: 't4_x' } },
      { kind: 't1', data: { name: 't1_broken' } },
    ]);
    expect(things.map((t) => t.data.name)).toEqual(['t3_1abcde', 't1_lmnopq1']);
    expect(unreadable).toBe(1);
  });

  it('orders fullnames by their base-36 ids', () => {
    expect(compareFullnames('t3_zzzzz', 't3_100000')).toBeLessThan(0);
    expect(compareFullnames('t1_abc', 't1_abd')).toBeLessThan(0);
    expect(compareFullnames('t1_abc', 't1_abc')).toBe(0);
  });
});

describe('Reddit errors and limits', () => {
  it("reads Reddit's json.errors and the wait of a RATELIMIT", () => {
    const body = {
      json: { errors: [['RATELIMIT', 'you are doing that too much. try again in 4 minutes.', 'ratelimit']] },
    };
    const [error] = redditApiErrors(body);
    expect(error).toEqual({
      code: 'RATELIMIT',
      message: 'you are doing that too much. try again in 4 minutes.',
      field: 'ratelimit',
    });
    expect(rateLimitWait(body, error?.message ?? '')).toBe(240_000);
    expect(rateLimitWait({}, 'try again in 1 second.')).toBe(1000);
    expect(rateLimitWait({}, 'try again in 500 milliseconds.')).toBe(500);
    expect(rateLimitWait({ json: { ratelimit: 12.25 } }, 'try again in 1 minute.')).toBe(12_250);
    expect(rateLimitWait({}, 'slow down')).toBeUndefined();
    expect(redditApiErrors({ json: { errors: [] } })).toEqual([]);
    expect(redditApiErrors('<html>')).toEqual([]);
  });

  it('words refusals for an agent', () => {
    const refusal = (code: string) => commentRefusal({ code, message: 'm', field: 'parent' }, account);
    expect(refusal('THREAD_LOCKED')).toContain('locked');
    expect(refusal('TOO_OLD')).toContain('archived');
    expect(refusal('DELETED_COMMENT')).toContain('deleted');
    expect(refusal('SUBREDDIT_NOTALLOWED')).toContain('u/AcmeCare');
    expect(refusal('SOMETHING_ELSE')).toBeUndefined();
  });

  it('reads x-ratelimit-reset as seconds from now', () => {
    const now = new Date('2026-11-23T10:00:00Z');
    const at = (headers: Record<string, string>) => redditResetAt(new Headers(headers), now).toISOString();
    expect(at({ 'x-ratelimit-reset': '42' })).toBe('2026-11-23T10:00:42.000Z');
    expect(at({ 'x-ratelimit-reset': '0' })).toBe('2026-11-23T10:00:01.000Z');
    expect(at({ 'retry-after': '7' })).toBe('2026-11-23T10:00:07.000Z');
    expect(at({})).toBe('2026-11-23T10:01:00.000Z');
  });
});
