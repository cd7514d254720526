import { createHash } from 'node:crypto';
import { type Duration, minutes, seconds } from '../../care/clock.js';

/** How long carebot waits for Bluesky before treating a request as failed. */
export const BLUESKY_TIMEOUT: Duration = seconds(15);

/** A post's maximum length: 300 graphemes (what a reader sees as one character, e.g. 👍🏽). */
export const BLUESKY_MAX_GRAPHEMES = 300;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** A text's length as Bluesky counts it: in graphemes. */
export function graphemeLength(text: string): number {
  let count = 0;
  for (const _ of segmenter.segment(text)) count += 1;
  return count;
}

/** `listNotifications` and `searchPosts` take `limit` up to 100. */
export const BLUESKY_PAGE_SIZE = 100;

/** A poll reads at most this many pages back before it stops (a first backfill of a busy account). */
export const BLUESKY_MAX_PAGES = 10;

/** `getProfiles` and `getPosts` take at most 25 actors or uris a call. */
export const BLUESKY_BATCH = 25;

/**
 * When a 429 names no `ratelimit-reset`, wait this long. bsky.social allows 3,000 requests per
 * 5 minutes per IP, and 30 `createSession` calls per 5 minutes per account: carebot signs in once
 * and keeps the session (refreshing it), so sign-ins stay rare.
 */
export const RATE_LIMIT_FALLBACK: Duration = minutes(1);

const S32 = '234567abcdefghijklmnopqrstuvwxyz';
const TID_SHAPE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;

/** A TID's 63 bits as Bluesky spells them: 13 characters of base32-sortable. */
function tidOf(value: bigint): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < 13; i++) {
    out = S32[Number(rest & 31n)] + out;
    rest >>= 5n;
  }
  return out;
}

function tidValue(tid: string): bigint {
  let value = 0n;
  for (const char of tid) value = (value << 5n) | BigInt(S32.indexOf(char));
  return value;
}

const FALLBACK_EPOCH_US = BigInt(Date.parse('2024-01-01T00:00:00Z')) * 1000n;

/**
 * The record key of a reply, the same at every attempt: Bluesky has no idempotency key, but a
 * repository holds one record per key, so a resend cannot make a second post. Posts are keyed by
 * TIDs (microseconds since 1970 and a 10-bit clock id): the time is that of the post being answered
 * plus up to a second, so the reply sorts after it, and the rest comes from a hash of the account and
 * the reply's idempotency key, so two replies to one post get different keys.
 */
export function replyRecordKey(
  accountDid: string,
  idempotencyKey: string,
  parentRkey: string | undefined,
): string {
  const hash = createHash('sha256').update(`${accountDid}\n${idempotencyKey}`).digest();
  const offsetUs = BigInt(hash.readUInt32BE(0) % 1_000_000) + 1n;
  const clockId = BigInt(hash.readUInt16BE(4) & 0x3ff);
  const base =
    parentRkey && TID_SHAPE.test(parentRkey)
      ? tidValue(parentRkey) >> 10n
      : FALLBACK_EPOCH_US + BigInt(hash.readUInt32BE(6)) * 1000n;
  return tidOf((((base + offsetUs) << 10n) | clockId) & 0x7fff_ffff_ffff_ffffn);
}
