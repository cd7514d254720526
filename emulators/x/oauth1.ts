import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OAuth 1.0a as X checks it, for the fake X APIs (the sandbox's and the tests'): the parameters of
 * an `Authorization: OAuth …` header, and the HMAC-SHA1 signature over the method, the URL without
 * its query, and every query and oauth_ parameter, percent-encoded (RFC 3986) and sorted.
 */
export function oauthParams(header: string | undefined): Map<string, string> | undefined {
  if (!header?.startsWith('OAuth ')) return undefined;
  const params = new Map<string, string>();
  for (const [, key, value] of header.slice('OAuth '.length).matchAll(/([\w]+)="([^"]*)"/g)) {
    params.set(decodeURIComponent(key as string), decodeURIComponent(value as string));
  }
  return params;
}

/** Whether the header's signature is the one the consumer and token secrets give. */
export function oauthSignatureValid(
  method: string,
  url: URL,
  params: Map<string, string>,
  secrets: { consumerSecret: string; accessSecret: string },
): boolean {
  const pairs: Array<[string, string]> = [...url.searchParams];
  for (const [key, value] of params)
    if (key !== 'oauth_signature' && key !== 'realm') pairs.push([key, value]);
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const paramString = pairs
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => order(ak, bk) || order(av, bv))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const base = [method.toUpperCase(), rfc3986(`${url.origin}${url.pathname}`), rfc3986(paramString)].join(
    '&',
  );
  const key = `${rfc3986(secrets.consumerSecret)}&${rfc3986(secrets.accessSecret)}`;
  const expected = Buffer.from(createHmac('sha1', key).update(base).digest('base64'));
  const given = Buffer.from(params.get('oauth_signature') ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Orders X's numeric ids (snowflakes) as numbers, without parsing them. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
