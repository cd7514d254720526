import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * Requests carebot makes to URLs from its configuration (RSS feeds, the generic webhook's
 * reply_url): no blind redirects, a bounded response, and no loopback, link-local or private
 * address unless the configuration allows it. The address is checked where the connection is made
 * (the `lookup` of the socket), so a name cannot resolve to a public address for the check and a
 * private one for the connection.
 */

/** Addresses carebot does not connect to unless `allow_private_network: true`. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network, 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is loopback, link-local, private or otherwise not on the public internet. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = isIP(ip);
  if (family === 4) return PRIVATE.check(ip, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped (::ffff:a.b.c.d or ::ffff:xxxx:xxxx) and IPv4-compatible addresses: the IPv4 inside.
  const mapped = /^(?:0*:)*:?(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return isPrivateAddress(mapped[1]);
  const hexMapped = /^(?:0*:)*:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hexMapped?.[1] && hexMapped[2]) {
    const hi = Number.parseInt(hexMapped[1], 16);
    const lo = Number.parseInt(hexMapped[2], 16);
    return isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return PRIVATE.check(ip, 'ipv6');
}

export type OutboundProblem =
  | 'private_address'
  | 'timeout'
  | 'network'
  | 'too_many_redirects'
  | 'bad_redirect'
  | 'too_large';

/** Why a request failed; `message` never holds the URL (feed and reply URLs may carry tokens). */
export class OutboundError extends Error {
  constructor(
    readonly problem: OutboundProblem,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** For the whole exchange, redirects and the body included. */
  timeoutMs: number;
  /** The largest body read (after decompression). */
  maxBytes: number;
  /** Past maxBytes: fail with `too_large` (default), or keep the first maxBytes and stop reading. */
  overflow?: 'fail' | 'truncate';
  /** `allow_private_network: true`: loopback, link-local and private addresses are allowed. */
  allowPrivateNetwork: boolean;
  /** Redirects followed, to http(s) URLs only; 0: a redirect is answered as it came (a 3xx). */
  maxRedirects: number;
  /** Ask for and undo gzip, deflate and br. */
  decompress?: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body was longer than maxBytes and was cut there (overflow: 'truncate'). */
  truncated: boolean;
  /** Redirects followed. */
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One request, following at most `maxRedirects` redirects; throws OutboundError. */
export async function outboundRequest(url: string, opts: OutboundOptions): Promise<OutboundResponse> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const res = await once(current, opts, deadline);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location || opts.maxRedirects === 0) {
      const { body, truncated } = await readBody(res, opts, deadline);
      return { status: res.statusCode ?? 0, headers: toHeaders(res), body, truncated, redirects };
    }
    res.destroy();
    if (redirects >= opts.maxRedirects) {
      throw new OutboundError(
        'too_many_redirects',
        `redirected more than ${opts.maxRedirects} times, more than carebot follows`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new OutboundError('bad_redirect', 'redirected to an address that is not a URL');
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new OutboundError(
        'bad_redirect',
        `redirected to a ${next.protocol} URL; carebot follows only http(s)`,
      );
    }
    current = next;
  }
}

function once(url: URL, opts: OutboundOptions, deadline: AbortSignal): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new OutboundError('bad_redirect', 'not an http(s) URL'));
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address is not looked up, so it is checked here.
  if (isIP(host) && !opts.allowPrivateNetwork && isPrivateAddress(host)) {
    return Promise.reject(privateAddress());
  }
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.decompress) headers['accept-encoding'] = 'gzip, deflate, br';
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  const options: RequestOptions = {
    method: opts.method,
    headers,
    signal: deadline,
    lookup: checkedLookup(opts.allowPrivateNetwork),
    // A fresh connection each time: a pooled one could have been made for another policy.
    agent: false,
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, resolve);
    req.on('error', (err) => reject(asOutboundError(err, deadline, opts.timeoutMs)));
    req.end(opts.body);
  });
}

function checkedLookup(allowPrivate: boolean): NonNullable<RequestOptions['lookup']> {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      if (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
        return callback(privateAddress());
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(new OutboundError('network', 'the name has no address', 'ENOTFOUND'));
      return callback(null, first.address, first.family);
    });
  }) as NonNullable<RequestOptions['lookup']>;
}

function privateAddress(): OutboundError {
  return new OutboundError(
    'private_address',
    'resolves to a loopback, link-local or private address; set allow_private_network: true to allow it',
  );
}

function asOutboundError(err: unknown, deadline: AbortSignal, timeoutMs: number): OutboundError {
  if (err instanceof OutboundError) return err;
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof OutboundError) return cause;
  if (deadline.aborted) return new OutboundError('timeout', `did not answer within ${timeoutMs / 1000} s`);
  const code = (err as { code?: unknown })?.code;
  return new OutboundError('network', 'could not be reached', typeof code === 'string' ? code : undefined);
}

async function readBody(
  res: IncomingMessage,
  opts: OutboundOptions,
  deadline: AbortSignal,
): Promise<{ body: Buffer; truncated: boolean }> {
  const truncate = opts.overflow === 'truncate';
  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  const declared = Number(res.headers['content-length']);
  if (!truncate && !encoding && Number.isFinite(declared) && declared > opts.maxBytes) {
    res.destroy();
    throw tooLarge(opts.maxBytes);
  }
  let stream: Readable = res;
  if (opts.decompress && encoding) {
    const decoder =
      encoding === 'gzip' || encoding === 'x-gzip'
        ? createGunzip()
        : encoding === 'deflate'
          ? createInflate()
          : encoding === 'br'
            ? createBrotliDecompress()
            : undefined;
    if (decoder) {
      res.on('error', (err) => decoder.destroy(err));
      stream = res.pipe(decoder);
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (size + chunk.length > opts.maxBytes) {
        if (!truncate) throw tooLarge(opts.maxBytes);
        chunks.push(chunk.subarray(0, opts.maxBytes - size));
        truncated = true;
        break;
      }
      size += chunk.length;
      chunks.push(chunk);
    }
  } catch (err) {
    throw asOutboundError(err, deadline, opts.timeoutMs);
  } finally {
    res.destroy();
    if (stream !== res) stream.destroy();
  }
  return { body: Buffer.concat(chunks), truncated };
}

function tooLarge(max: number): OutboundError {
  const size = max >= 1024 * 1024 ? `${max / 1024 / 1024} MiB` : `${max / 1024} KiB`;
  return new OutboundError('too_large', `is larger than ${size}, more than carebot reads`);
}

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}
