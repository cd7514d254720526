import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One post of a fake forum or blog, rendered as an RSS `<item>` or an Atom `<entry>`. */
export interface FakeFeedItem {
  /** RSS `<guid isPermaLink="false">`, Atom `<id>`; leave out for an item without one. */
  id?: string;
  title?: string;
  link?: string;
  /** HTML: RSS `<description>`, Atom `<content type="html">` (escaped, as real feeds send it). */
  content?: string;
  /** HTML for RSS `<content:encoded>`, in CDATA. */
  contentEncoded?: string;
  /** RSS `<pubDate>` (RFC 822), Atom `<published>` and `<updated>`; leave out for an undated item. */
  published?: string | Date;
  /** RSS `<dc:creator>`, Atom `<author><name>`. */
  author?: string;
  /** RSS `<author>`, an email address with the name in brackets: `jane@example.com (Jane Doe)`. */
  authorEmail?: string;
}

export interface FakeFeedDocument {
  type: 'rss' | 'atom';
  title?: string;
  items: FakeFeedItem[];
}

export interface FakeFeedOptions {
  /** false: a server that sends no ETag or Last-Modified and never answers 304. */
  conditional?: boolean;
}

export interface FakeFeedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** How many consecutive requests of the path fail (default 1). */
  times?: number;
}

export interface FeedRequest {
  path: string;
  method: string;
  /** Request headers, names in lowercase. */
  headers: Record<string, string>;
  /** What the fake answered. */
  status: number;
}

export interface FakeFeed {
  /** The absolute URL of `path` on the fake. */
  url(path: string): string;
  /** Serves `doc` at `path` as real RSS 2.0 or Atom XML, with ETag and Last-Modified. */
  setFeed(path: string, doc: FakeFeedDocument, opts?: FakeFeedOptions): void;
  /** Serves any body at `path` (a broken feed, an HTML page), with validators like a feed. */
  setRaw(path: string, body: string | Buffer, contentType?: string): void;
  failNext(path: string, failure: FakeFeedFailure): void;
  /** Every request, in arrival order. */
  requests: FeedRequest[];
  requestsTo(path: string): FeedRequest[];
  reset(): void;
  close(): Promise<void>;
}

interface Served {
  body: Buffer;
  contentType: string;
  etag: string | undefined;
  lastModified: string | undefined;
}

/**
 * A forum or blog that publishes feeds, answering like a well-behaved web server: strong ETags
 * and Last-Modified dates, 304 on a conditional GET that matches (If-None-Match first, as
 * RFC 9110 says), 404 for unknown paths, and injected failures.
 */
export async function startFakeFeed(): Promise<FakeFeed> {
  const served = new Map<string, Served>();
  const failures = new Map<string, Array<FakeFeedFailure & { remaining: number }>>();
  const requests: FeedRequest[] = [];
  // HTTP dates have whole seconds; each version gets a later one, so two changes in one second differ.
  let lastModifiedMs = 0;

  const serve = (path: string, body: Buffer, contentType: string, conditional: boolean) => {
    lastModifiedMs = Math.max(Math.floor(Date.now() / 1000) * 1000, lastModifiedMs + 1000);
    served.set(path, {
      body,
      contentType,
      etag: conditional ? `"${createHash('sha1').update(body).digest('hex').slice(0, 20)}"` : undefined,
      lastModified: conditional ? new Date(lastModifiedMs).toUTCString() : undefined,
    });
  };

  const answer = (req: IncomingMessage, res: ServerResponse, path: string): number => {
    const queue = failures.get(path);
    const failure = queue?.[0];
    if (queue && failure) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) queue.shift();
      res.writeHead(failure.status, { 'content-type': 'text/plain; charset=utf-8', ...failure.headers });
      res.end(failure.body ?? `fake feed: injected HTTP ${failure.status}`);
      return failure.status;
    }
    const doc = served.get(path);
    if (!doc) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`fake feed: nothing at ${path}`);
      return 404;
    }
    const validators: Record<string, string> = {};
    if (doc.etag) validators.etag = doc.etag;
    if (doc.lastModified) validators['last-modified'] = doc.lastModified;
    if (notModified(req, doc)) {
      res.writeHead(304, validators);
      res.end();
      return 304;
    }
    res.writeHead(200, { 'content-type': doc.contentType, 'content-length': doc.body.length, ...validators });
    res.end(req.method === 'HEAD' ? undefined : doc.body);
    return 200;
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fake.feed.test').pathname;
    const status = answer(req, res, path);
    requests.push({
      path,
      method: req.method ?? 'GET',
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      status,
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: (path) => `${origin}${path.startsWith('/') ? path : `/${path}`}`,
    setFeed: (path, doc, opts = {}) => {
      const xml = doc.type === 'rss' ? renderRss(doc, origin) : renderAtom(doc, origin);
      const type = doc.type === 'rss' ? 'application/rss+xml' : 'application/atom+xml';
      serve(path, Buffer.from(xml, 'utf8'), `${type}; charset=utf-8`, opts.conditional ?? true);
    },
    setRaw: (path, body, contentType = 'application/xml; charset=utf-8') => {
      serve(path, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), contentType, true);
    },
    failNext: (path, failure) => {
      const queue = failures.get(path) ?? [];
      queue.push({ ...failure, remaining: failure.times ?? 1 });
      failures.set(path, queue);
    },
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    reset: () => {
      served.clear();
      failures.clear();
      requests.length = 0;
    },
    close: async () => {
      // fetch keeps connections alive; without this close() would wait for them to time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function notModified(req: IncomingMessage, doc: Served): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (!doc.etag) return false;
    const tags = ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(doc.etag);
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince === undefined || !doc.lastModified) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Date.parse(doc.lastModified) <= since;
}

const escapeXml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

const asDate = (value: string | Date) => (value instanceof Date ? value : new Date(value));

/** Only the elements an item has, so a test can leave any of them out. */
const element = (name: string, value: string | undefined, attributes = '') =>
  value === undefined ? '' : `<${name}${attributes}>${escapeXml(value)}</${name}>`;

function renderRss(doc: FakeFeedDocument, origin: string): string {
  const items = doc.items.map((item) =>
    [
      '<item>',
      element('title', item.title),
      element('link', item.link),
      element('guid', item.id, ' isPermaLink="false"'),
      element('description', item.content),
      item.contentEncoded === undefined
        ? ''
        : `<content:encoded><![CDATA[${item.contentEncoded.replaceAll(']]>', ']]]]><![CDATA[>')}]]></content:encoded>`,
      element('pubDate', item.published === undefined ? undefined : asDate(item.published).toUTCString()),
      element('dc:creator', item.author),
      element('author', item.authorEmail),
      '</item>',
    ].join(''),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
    '<channel>',
    element('title', doc.title ?? 'Fake forum'),
    element('link', `${origin}/`),
    element('description', 'Posts of a fake forum'),
    ...items,
    '</channel>',
    '</rss>',
  ].join('\n');
}

function renderAtom(doc: FakeFeedDocument, origin: string): string {
  const dates = doc.items.flatMap((i) => (i.published === undefined ? [] : [asDate(i.published).getTime()]));
  const updated = new Date(dates.length > 0 ? Math.max(...dates) : 0).toISOString();
  const entries = doc.items.map((item) => {
    const at = item.published === undefined ? undefined : asDate(item.published).toISOString();
    return [
      '<entry>',
      element('id', item.id),
      element('title', item.title, ' type="html"'),
      item.link === undefined
        ? ''
        : `<link rel="alternate" type="text/html" href="${escapeXml(item.link)}"/>`,
      element('published', at),
      element('updated', at),
      item.author === undefined ? '' : `<author>${element('name', item.author)}</author>`,
      element('content', item.content, ' type="html"'),
      '</entry>',
    ].join('');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    element('title', doc.title ?? 'Fake blog'),
    element('id', `${origin}/`),
    element('updated', updated),
    `<link rel="self" href="${escapeXml(origin)}/"/>`,
    ...entries,
    '</feed>',
  ].join('\n');
}
