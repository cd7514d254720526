import { describe, expect, it } from 'vitest';
import { rssReplyAdapter } from '../../src/sources/rss/reply.js';

describe('rssReplyAdapter', () => {
  it('names the feed', () => {
    expect(rssReplyAdapter().label('rss:forum')).toBe('forum');
  });

  it('refuses for good and tells the agent to answer on the site', async () => {
    const outcome = await rssReplyAdapter().reply({
      replyId: 1,
      caseId: 1,
      sourceKey: 'rss:forum',
      conversationId: 'https://forum.example/t/42',
      inReplyTo: 'https://forum.example/t/42',
      customerId: 'Jane Doe',
      mode: 'public',
      text: 'Sorry about that!',
      agent: { id: 'U1', name: 'Sam' },
      idempotencyKey: 'reply-1',
    });
    expect(outcome).toEqual({
      ok: false,
      permanent: true,
      reason: expect.stringContaining('I replied on the site'),
    });
    expect(outcome.ok === false && outcome.reason).toMatch(/can’t be answered through an API: open the post/);
  });
});
