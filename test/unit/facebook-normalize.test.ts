import { describe, expect, it } from 'vitest';
import { fakeFacebookPage, signFacebookBody } from '../../emulators/graph/api.js';
import { appSecretProof } from '../../src/sources/facebook/client.js';
import {
  classifyGraphFailure,
  describeGraphError,
  type GraphError,
  graphError,
  throttledUntil,
} from '../../src/sources/facebook/errors.js';
import {
  commentThread,
  feedChangeOf,
  feedChangeValue,
  feedItemFromChange,
  graphTimeToDate,
  messagingEvent,
  normalizeFeedItem,
  normalizeMessengerEvent,
} from '../../src/sources/facebook/normalize.js';
import { facebookTarget } from '../../src/sources/facebook/reply.js';
import {
  facebookSignature,
  sameVerifyToken,
  verifyFacebookSignature,
} from '../../src/sources/facebook/verify.js';
import type { ReplyRequest } from '../../src/sources/types.js';

const page = fakeFacebookPage();
const received = new Date('2026-11-23T10:00:00Z');
const POST_ID = `${page.pageId}_9007199254740993001`;

const response = (status: number, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  body: undefined,
});
const error = (over: Partial<GraphError>): GraphError => ({
  message: undefined,
  type: 'OAuthException',
  code: undefined,
  subcode: undefined,
  userMessage: undefined,
  fbtraceId: undefined,
  isTransient: false,
  ...over,
});

describe('Facebook normalize', () => {
  it('reads a feed comment change, ids as strings, time from unix seconds', () => {
    const value = feedChangeValue.parse({
      from: { id: '6100000000000042', name: 'Jane Doe' },
      post: { id: POST_ID, permalink_url: 'https://www.facebook.com/brand/posts/1' },
      message: '  Cold fries  ',
      post_id: POST_ID,
      comment_id: '9007199254740993001_9007199254740993111',
      parent_id: POST_ID,
      created_time: 1_795_428_000,
      item: 'comment',
      verb: 'add',
      photo: 'https://scontent.example/fries.jpg',
    });
    expect(feedChangeOf(page, value)).toEqual({
      kind: 'comment',
      verb: 'add',
      externalId: '9007199254740993001_9007199254740993111',
      ownContent: false,
    });
    const item = feedItemFromChange(value, '9007199254740993001_9007199254740993111', received);
    expect(normalizeFeedItem(page, item, 'conv')).toEqual({
      sourceKey: `facebook:${page.pageId}`,
      platform: 'facebook',
      externalId: '9007199254740993001_9007199254740993111',
      conversationId: 'conv',
      author: { id: '6100000000000042', name: 'Jane Doe', handle: undefined, url: undefined },
      text: 'Cold fries\n(photo) https://scontent.example/fries.jpg',
      url: 'https://www.facebook.com/brand/posts/1',
      sentAt: new Date(1_795_428_000_000),
      channelId: page.channel,
    });
  });

  it("tells posts, comments, the Page's own words and what to ignore apart", () => {
    const parse = (over: Record<string, unknown>) =>
      feedChangeOf(
        page,
        feedChangeValue.parse({ item: 'comment', verb: 'add', comment_id: 'c', post_id: 'p', ...over }),
      );
    expect(parse({ item: 'status', from: { id: '1' } })).toMatchObject({ kind: 'post', externalId: 'p' });
    expect(parse({ item: 'photo', verb: 'edited' })).toMatchObject({ kind: 'post', verb: 'edited' });
    expect(parse({ from: { id: page.pageId } })).toMatchObject({ ownContent: true });
    expect(parse({ verb: 'remove' })).toMatchObject({ verb: 'remove', externalId: 'c' });
    expect(parse({ item: 'reaction' })).toBeUndefined();
    expect(parse({ verb: 'hide' })).toBeUndefined();
    expect(parse({ comment_id: undefined })).toBeUndefined();
  });

  it('puts a comment in its thread: top-level opens one, a reply joins its parent', () => {
    expect(commentThread('p_c1', 'page_p', 'page_p')).toBe('p_c1');
    expect(commentThread('p_c1', 'page_p', undefined)).toBe('p_c1');
    expect(commentThread('p_c2', 'page_p', 'p_c1')).toBe('p_c1');
  });

  it('reads Messenger messages per customer and drops echoes and receipts', () => {
    const event = (over: Record<string, unknown>) =>
      normalizeMessengerEvent(
        page,
        messagingEvent.parse({
          sender: { id: '7200000000000001' },
          recipient: { id: page.pageId },
          timestamp: 1_795_428_000_123,
          ...over,
        }),
        received,
      );
    expect(event({ message: { mid: 'm_1', text: 'Hi' } })).toMatchObject({
      externalId: 'm_1',
      conversationId: 'messenger:7200000000000001',
      author: { id: '7200000000000001' },
      text: 'Hi',
      sentAt: new Date(1_795_428_000_123),
    });
    expect(event({ postback: { mid: 'm_2', title: 'Talk to a person', payload: 'HUMAN' } })?.text).toBe(
      'Talk to a person',
    );
    expect(event({ message: { mid: 'm_3', text: 'x', is_echo: true } })).toBeUndefined();
    expect(event({ sender: { id: page.pageId }, message: { mid: 'm_4', text: 'x' } })).toBeUndefined();
    expect(event({ delivery: { mids: ['m_1'] } })).toBeUndefined();
  });

  it('reads Graph times in seconds, milliseconds and ISO 8601 with +0000', () => {
    expect(graphTimeToDate(1_795_428_000, received)).toEqual(new Date(1_795_428_000_000));
    expect(graphTimeToDate(1_795_428_000_123, received)).toEqual(new Date(1_795_428_000_123));
    expect(graphTimeToDate('2026-11-23T09:59:00+0000', received)).toEqual(new Date('2026-11-23T09:59:00Z'));
    expect(graphTimeToDate('1795428000', received)).toEqual(new Date(1_795_428_000_000));
    expect(graphTimeToDate('soon', received)).toEqual(received);
    expect(graphTimeToDate(undefined, received)).toEqual(received);
  });
});

describe('Facebook signatures and proofs', () => {
  it('checks X-Hub-Signature-256 against the raw body with the app secret', () => {
    const raw = '{"object":"page","entry":[]}';
    // printf %s '{"object":"page","entry":[]}' | openssl dgst -sha256 -hmac app-secret-of-brand
    const header = signFacebookBody(page.appSecret, raw);
    expect(header).toBe('sha256=65910bd122e28db0dc93c2ee270ca6dd7f1175bb422767c0320b66061726c7ee');
    expect(facebookSignature(raw, page.appSecret)).toBe(header);
    expect(verifyFacebookSignature(raw, header, page.appSecret)).toBe(true);
    expect(
      verifyFacebookSignature(raw, header.toUpperCase().replace('SHA256', 'sha256'), page.appSecret),
    ).toBe(true);
    expect(verifyFacebookSignature(`${raw} `, header, page.appSecret)).toBe(false);
    expect(verifyFacebookSignature(raw, header, 'other')).toBe(false);
    expect(verifyFacebookSignature(raw, undefined, page.appSecret)).toBe(false);
    expect(sameVerifyToken('abc', 'abc')).toBe(true);
    expect(sameVerifyToken('abc', 'abcd')).toBe(false);
  });

  it('proves the app secret as Graph expects: hex HMAC-SHA256 of the token', () => {
    // printf %s EAAtest-page-token-of-brand | openssl dgst -sha256 -hmac app-secret-of-brand
    expect(appSecretProof(page.pageToken, page.appSecret)).toBe(
      '5f778c1b2ed76b5dfe9db3d76a7754f7151cdc4f76a06b03ffdb4e6e3e385b28',
    );
    expect(appSecretProof(page.pageToken, page.appSecret)).not.toBe(appSecretProof(page.pageToken, 'x'));
  });
});

describe('Graph errors', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const kind = (status: number, over: Partial<GraphError>, headers: Record<string, string> = {}) =>
    classifyGraphFailure(response(status, headers), error(over), now).kind;

  it('maps codes to what they mean for carebot', () => {
    expect(kind(400, { code: 190, subcode: 463 })).toBe('token');
    expect(kind(401, {})).toBe('token');
    for (const code of [4, 17, 32, 613, 80001]) expect(kind(400, { code })).toBe('throttled');
    expect(kind(429, {})).toBe('throttled');
    expect(kind(400, { code: 10, subcode: 2018278 })).toBe('messaging_window');
    expect(kind(400, { code: 100, message: 'This message is sent outside of allowed window.' })).toBe(
      'messaging_window',
    );
    expect(kind(400, { code: 551 })).toBe('recipient_unavailable');
    expect(kind(400, { code: 10900 })).toBe('private_reply_used');
    expect(kind(403, { code: 10 })).toBe('permission');
    expect(kind(403, { code: 200 })).toBe('permission');
    expect(kind(400, { code: 100, subcode: 33, message: "Object with ID '1' does not exist" })).toBe(
      'not_found',
    );
    expect(kind(500, { code: 2 })).toBe('server');
    expect(kind(400, { code: 1 })).toBe('server');
    expect(kind(400, { code: 368 })).toBe('refused');
  });

  it('waits as long as the usage headers say, else Retry-After, else five minutes', () => {
    const usage = JSON.stringify({
      '1': [{ type: 'pages', estimated_time_to_regain_access: 3 }],
      '2': [{ type: 'messenger', estimated_time_to_regain_access: 7 }],
    });
    expect(throttledUntil(new Headers({ 'x-business-use-case-usage': usage }), now)).toEqual(
      new Date(now.getTime() + 7 * 60_000),
    );
    expect(
      throttledUntil(new Headers({ 'x-business-use-case-usage': 'garbage', 'retry-after': '30' }), now),
    ).toEqual(new Date(now.getTime() + 30_000));
    expect(throttledUntil(new Headers(), now)).toEqual(new Date(now.getTime() + 5 * 60_000));
  });

  it("reads Graph's error shape and never repeats the Page's secrets", () => {
    const parsed = graphError({
      error: {
        message: `Invalid token ${page.pageToken}`,
        type: 'OAuthException',
        code: 190,
        error_subcode: 467,
        fbtrace_id: 'AbC',
      },
    });
    expect(parsed).toMatchObject({ code: 190, subcode: 467, fbtraceId: 'AbC', type: 'OAuthException' });
    const text = describeGraphError(page, parsed, 400);
    expect(text).toBe('Invalid token [redacted] (code 190/467)');
    expect(describeGraphError(page, graphError('<html>Bad gateway</html>'), 502)).toBe(
      '<html>Bad gateway</html>',
    );
    expect(describeGraphError(page, graphError(undefined), 502)).toBe('HTTP 502');
  });
});

describe('Facebook reply targets', () => {
  const request = (over: Partial<ReplyRequest>): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: `facebook:${page.pageId}`,
    conversationId: '9007199254740993001_1',
    inReplyTo: null,
    customerId: '1',
    mode: 'public',
    text: 'hi',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'k',
    ...over,
  });
  it('answers Messenger in Messenger, comments under the latest one, private replies by comment or post', () => {
    expect(facebookTarget(page, request({ conversationId: 'messenger:72' }))).toEqual({
      kind: 'messenger',
      psid: '72',
    });
    expect(facebookTarget(page, request({ inReplyTo: '9007199254740993001_2' }))).toEqual({
      kind: 'comment',
      objectId: '9007199254740993001_2',
    });
    expect(facebookTarget(page, request({}))).toEqual({ kind: 'comment', objectId: '9007199254740993001_1' });
    expect(facebookTarget(page, request({ mode: 'private' }))).toEqual({
      kind: 'private',
      recipient: { comment_id: '9007199254740993001_1' },
    });
    expect(facebookTarget(page, request({ mode: 'private', inReplyTo: POST_ID }))).toEqual({
      kind: 'private',
      recipient: { post_id: POST_ID },
    });
    expect(facebookTarget(page, request({ conversationId: 'messenger:x' }))).toHaveProperty('reason');
    expect(facebookTarget(page, request({ conversationId: 'dm:1' }))).toHaveProperty('reason');
  });
});
