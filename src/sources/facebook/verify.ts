import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=` + hex HMAC-SHA256 of the raw body, keyed by the app secret: what Meta sends. */
export function facebookSignature(rawBody: string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody, 'utf8').digest('hex')}`;
}

/** Checks `X-Hub-Signature-256` against the raw body, in constant time. */
export function verifyFacebookSignature(
  rawBody: string,
  headerValue: string | undefined,
  appSecret: string,
): boolean {
  if (!headerValue) return false;
  const expected = Buffer.from(facebookSignature(rawBody, appSecret));
  const given = Buffer.from(headerValue.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Compares a verify token in constant time (hashes first, so lengths give nothing away). */
export function sameVerifyToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
