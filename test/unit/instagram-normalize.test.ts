import { describe, expect, it } from 'vitest';
import { fakeFacebookPage } from '../../emulators/graph/api.js';
import {
  instagramChannel,
  instagramCommentValue,
  instagramMentionValue,
  isOwnInstagramComment,
  normalizeInstagramComment,
  normalizeInstagramMention,
} from '../../src/sources/instagram/normalize.js';
import { instagramTarget } from '../../src/sources/instagram/reply.js';
import type { ReplyRequest } from '../../src/sources/types.js';

const page = { ...fakeFacebookPage(), instagramAccountId: '17841400000000001' };
const received = new Date('2026-11-23T10:00:00Z');

describe('Instagram normalize', () => {
  it('turns a comment into a message in its thread, with the @username and profile link', () => {
    const value = instagramCommentValue.parse({
      from: { id: '17841400000000042', username: 'jane.doe' },
      media: { id: '17900000000000001', media_product_type: 'FEED' },
      id: '17860000000000003',
      parent_id: '17860000000000001',
      text: 'Still no refund',
    });
    expect(normalizeInstagramComment(page, value, { channel: undefined, sentAt: received })).toEqual({
      sourceKey: 'instagram:17841400000000001',
      platform: 'instagram',
      externalId: '17860000000000003',
      conversationId: '17860000000000001',
      author: {
        id: '17841400000000042',
        name: undefined,
        handle: 'jane.doe',
        url: 'https://www.instagram.com/jane.doe',
      },
      text: 'Still no refund',
      url: undefined,
      sentAt: received,
      channelId: page.channel,
    });
    const top = instagramCommentValue.parse({ id: '17860000000000001', text: 'Refund?' });
    expect(normalizeInstagramComment(page, top, { channel: 'CINSTA', sentAt: received })).toMatchObject({
      conversationId: '17860000000000001',
      channelId: 'CINSTA',
    });
    expect(
      isOwnInstagramComment(
        page,
        instagramCommentValue.parse({ id: '1', from: { id: page.instagramAccountId } }),
      ),
    ).toBe(true);
    expect(isOwnInstagramComment(page, top)).toBe(false);
    expect(instagramChannel(page, undefined)).toBe(page.channel);
  });

  it('turns a mention into a message per mentioned media, with or without its words', () => {
    const mention = instagramMentionValue.parse({
      media_id: '17900000000000777',
      comment_id: '17860000000000500',
    });
    expect(
      normalizeInstagramMention(
        page,
        mention,
        {
          text: '@brand help',
          timestamp: '2026-11-23T09:50:00+0000',
          permalink: 'https://www.instagram.com/p/X/',
        },
        { channel: undefined, receivedAt: received },
      ),
    ).toMatchObject({
      externalId: '17860000000000500',
      conversationId: 'mention:17900000000000777',
      author: { id: '', name: 'Instagram user' },
      text: '@brand help',
      url: 'https://www.instagram.com/p/X/',
      sentAt: new Date('2026-11-23T09:50:00Z'),
    });
    const caption = normalizeInstagramMention(
      page,
      instagramMentionValue.parse({ media_id: '17900000000000888' }),
      {},
      { channel: undefined, receivedAt: received },
    );
    expect(caption).toMatchObject({ externalId: '17900000000000888', sentAt: received });
    expect(caption.text).toContain('the caption of a post');
  });
});

describe('Instagram reply targets', () => {
  const request = (over: Partial<ReplyRequest>): ReplyRequest => ({
    replyId: 1,
    caseId: 1,
    sourceKey: 'instagram:17841400000000001',
    conversationId: '17860000000000001',
    inReplyTo: '17860000000000003',
    customerId: '1',
    mode: 'public',
    text: 'hi',
    agent: { id: 'U1', name: 'Sam' },
    idempotencyKey: 'k',
    ...over,
  });
  it('replies in the thread, through mentions, or privately', () => {
    expect(instagramTarget(request({}))).toEqual({ kind: 'reply', commentId: '17860000000000003' });
    expect(instagramTarget(request({ mode: 'private' }))).toEqual({
      kind: 'private',
      commentId: '17860000000000003',
    });
    expect(instagramTarget(request({ conversationId: 'mention:9', inReplyTo: '9' }))).toEqual({
      kind: 'mention',
      mediaId: '9',
      commentId: undefined,
    });
    expect(instagramTarget(request({ inReplyTo: null, conversationId: 'x' }))).toHaveProperty('reason');
  });
});
