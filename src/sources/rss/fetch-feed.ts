import Parser from 'rss-parser';
import { OutboundError, type OutboundResponse, outboundRequest } from '../../http/outbound.js';
import { type PollOutcome, resetFromHeaders } from '../types.js';
import type { RssFeed } from './config.js';
import { FETCH_TIMEOUT, MAX_FEED_BYTES, MAX_FEED_REDIRECTS } from './limits.js';
import type { FeedItem } from './normalize.js';

export const DEFAULT_USER_AGENT = 'carebot/0.1 (+social customer care; RSS reader)';
const ACCEPT = 'application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8';

/** What the site said last time, sent back so an unchanged feed costs a 304 and no parsing. */
export interface Validators {
  etag?: string | undefined;
  lastModified?: string | undefined;
}

export type FetchedFeed =
  | { kind: 'fetched'; xml: string; validators: Validators }
  | { kind: 'not_modified' }
  | Exclude<PollOutcome, { kind: 'ok' }>;

export interface FetchFeedOptions {
  validators: Validators;
  userAgent: string;
  now: Date;
  /** How long to wait after a 429 that does not say. */
  rateLimitFallbackMs: number;
  /** How long the feed may take to answer; FETCH_TIMEOUT unless given (the setup check waits less). */
  timeoutMs?: number;
}

/**
 * One conditional GET of a feed. Reasons name the feed, never its URL (private feed URLs carry
 * tokens) and never quote the body. Redirects are followed to http(s) only, at most
 * MAX_FEED_REDIRECTS; the body is read up to MAX_FEED_BYTES; a feed on a loopback, link-local or
 * private address is refused unless the feed allows it (`allow_private_network`).
 */
export async function fetchFeed(feed: RssFeed, opts: FetchFeedOptions): Promise<FetchedFeed> {
  const name = `feed "${feed.name}"`;
  const headers: Record<string, string> = { 'user-agent': opts.userAgent, accept: ACCEPT };
  if (opts.validators.etag) headers['if-none-match'] = opts.validators.etag;
  if (opts.validators.lastModified) headers['if-modified-since'] = opts.validators.lastModified;
  let res: OutboundResponse;
  try {
    res = await outboundRequest(feed.url, {
      method: 'GET',
      headers,
      timeoutMs: opts.timeoutMs ?? FETCH_TIMEOUT,
      maxBytes: MAX_FEED_BYTES,
      allowPrivateNetwork: feed.allowPrivateNetwork,
      maxRedirects: MAX_FEED_REDIRECTS,
      decompress: true,
    });
  } catch (err) {
    return { kind: 'failed', reason: `${name} ${problem(err)}` };
  }

  if (res.status === 304) return { kind: 'not_modified' };
  if (res.status < 200 || res.status > 299) return refused(feed, name, res, opts);
  return {
    kind: 'fetched',
    xml: decode(res.body, res.headers.get('content-type')),
    validators: {
      etag: res.headers.get('etag') ?? undefined,
      lastModified: res.headers.get('last-modified') ?? undefined,
    },
  };
}

function refused(feed: RssFeed, name: string, res: OutboundResponse, opts: FetchFeedOptions): FetchedFeed {
  const status = res.status;
  const retryAfter = res.headers.get('retry-after');
  if (status === 429 || (status === 503 && retryAfter)) {
    // resetFromHeaders reads Retry-After in seconds; the HTTP-date form arrives as the fallback.
    const fallback = retryAfterDateMs(retryAfter, opts.now) ?? opts.rateLimitFallbackMs;
    return { kind: 'rate_limited', retryAt: resetFromHeaders(res.headers, fallback, opts.now) };
  }
  if (status === 401 || status === 403) {
    return {
      kind: 'auth_failed',
      reason: `${name} asks for a login (HTTP ${status})`,
      hint: `carebot reads only public feeds: make the feed public, or remove "${feed.name}" from sources.rss.feeds in carebot.config.yaml`,
    };
  }
  if (status === 404 || status === 410) {
    return {
      kind: 'failed',
      reason: `${name} is not there any more (HTTP ${status}): check its url in sources.rss.feeds`,
    };
  }
  return { kind: 'failed', reason: `${name} answered with an error (HTTP ${status})` };
}

function retryAfterDateMs(header: string | null, now: Date): number | undefined {
  if (!header || /^\s*\d+\s*$/.test(header)) return undefined;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(1000, at - now.getTime());
}

/** What went wrong, in words that name neither the URL nor the body. */
function problem(err: unknown): string {
  if (err instanceof OutboundError) {
    if (err.problem === 'network') return `could not be reached${err.code ? ` (${err.code})` : ''}`;
    return err.message;
  }
  return 'could not be reached';
}

/**
 * Text from the charset in Content-Type, else the XML declaration's encoding (feeds in ISO-8859-1
 * still exist), else UTF-8.
 */
function decode(bytes: Uint8Array, contentType: string | null): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const fromDeclaration = /^(?:\u00ef\u00bb\u00bf)?<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(
    head,
  )?.[1];
  for (const label of [fromHeader, fromDeclaration]) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // An unknown label: try the next source of truth.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

/**
 * A fetched feed's items, or why it is not a feed: the parser's first line says what is wrong
 * ("Unexpected close tag"), without quoting the body.
 */
export async function parseFeed(
  xml: string,
): Promise<{ ok: true; items: FeedItem[] } | { ok: false; detail: string }> {
  try {
    return {
      ok: true,
      items: (await new Parser<Record<string, unknown>, FeedItem>().parseString(xml)).items,
    };
  } catch (err) {
    const [detail = ''] = String((err as Error)?.message ?? err).split('\n');
    return { ok: false, detail: detail.slice(0, 120) };
  }
}
