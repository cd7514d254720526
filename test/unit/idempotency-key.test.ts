import { describe, expect, it } from 'vitest';
import { idempotencyKey } from '../../src/jobs/deliver-replies.js';

describe('the idempotency key of a reply', () => {
  const reply = { id: 7, failures: 0, createdAt: new Date('2026-12-06T10:00:00.123Z') };

  it('stays the same across automatic retries of one reply', () => {
    expect(idempotencyKey(reply)).toBe(idempotencyKey({ ...reply }));
  });

  it('differs for reply 7 of another database, so a platform never answers with an old post', () => {
    expect(idempotencyKey({ ...reply, createdAt: new Date('2026-12-06T10:05:00Z') })).not.toBe(
      idempotencyKey(reply),
    );
  });

  it('is new after a person presses Retry', () => {
    expect(idempotencyKey({ ...reply, failures: 1 })).not.toBe(idempotencyKey(reply));
    expect(idempotencyKey({ ...reply, failures: 1 })).toMatch(/^carebot-reply-7-[0-9a-z]+-1$/);
  });
});
