import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFeed, startFakeFeed } from '../../emulators/feed/server.js';
import { systemClock } from '../../src/care/clock.js';
import { isPrivateAddress } from '../../src/http/outbound.js';
import type { RssFeed } from '../../src/sources/rss/config.js';
import { DEFAULT_USER_AGENT, fetchFeed } from '../../src/sources/rss/fetch-feed.js';
import { MAX_FEED_REDIRECTS } from '../../src/sources/rss/limits.js';
import type { ReplyRequest } from '../../src/sources/types.js';
import type { WebhookSourceConfig } from '../../src/sources/webhook/config.js';
import { MAX_RESPONSE_BYTES, webhookReplyAdapter } from '../../src/sources/webhook/reply.js';
import { WEBHOOK_SECRET } from '../support/carebot.js';

/** A tiny server whose answer the test sets, counting what reaches it. */
async function startPeer() {
  let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{}');
  const received: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }> = [];
  const server: Server = createServer((req, res) => {
    received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`,
    received,
    answer: (fn: typeof answer) => {
      answer = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>Forum</title></channel></rss>';

describe('outbound fetches', () => {
  let site: FakeFeed;
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let other: Awaited<ReturnType<typeof startPeer>>;
  beforeAll(async () => {
    [site, peer, other] = await Promise.all([startFakeFeed(), startPeer(), startPeer()]);
  });
  afterAll(async () => {
    await Promise.all([site.close(), peer.close(), other.close()]);
  });
  beforeEach(() => {
    site.reset();
    peer.received.length = 0;
    other.received.length = 0;
  });

  const feed = (url: string, allowPrivateNetwork: boolean): RssFeed => ({
    name: 'forum',
    url,
    allowPrivateNetwork,
    keywords: [],
    channel: 'CFORUM',
  });
  const fetchIt = (f: RssFeed) =>
    fetchFeed(f, {
      validators: {},
      userAgent: DEFAULT_USER_AGENT,
      now: new Date(),
      rateLimitFallbackMs: 60_000,
    });

  it('knows loopback, link-local and private addresses, IPv4-mapped ones included', () => {
    for (const ip of [
      '127.0.0.1',
      '127.8.9.10',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '[::1]',
      'not-an-ip',
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
    for (const ip of [
      '93.184.216.34',
      '8.8.8.8',
      '172.32.0.1',
      '100.128.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(false);
    }
  });

  it('refuses a feed on a loopback address unless the feed allows the private network', async () => {
    site.setRaw('/feed.xml', RSS, 'application/rss+xml');
    for (const url of [site.url('/feed.xml'), site.url('/feed.xml').replace('127.0.0.1', 'localhost')]) {
      const refused = await fetchIt(feed(url, false));
      expect(refused, url).toMatchObject({
        kind: 'failed',
        reason: expect.stringContaining('allow_private_network'),
      });
    }
    expect(site.requests).toEqual([]);
    expect(await fetchIt(feed(site.url('/feed.xml'), true))).toMatchObject({ kind: 'fetched' });
  });

  it(`follows at most ${MAX_FEED_REDIRECTS} feed redirects, and only to http(s)`, async () => {
    site.setRaw('/feed.xml', RSS, 'application/rss+xml');
    const hop = (from: string, to: string) => site.failNext(from, { status: 301, headers: { location: to } });
    hop('/a', '/b');
    hop('/b', site.url('/c'));
    hop('/c', '/feed.xml');
    expect(await fetchIt(feed(site.url('/a'), true))).toMatchObject({ kind: 'fetched', xml: RSS });

    hop('/1', '/2');
    hop('/2', '/3');
    hop('/3', '/4');
    hop('/4', '/feed.xml');
    expect(await fetchIt(feed(site.url('/1'), true))).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/redirected more than 3 times/),
    });
    expect(site.requestsTo('/feed.xml')).toHaveLength(1);

    site.failNext('/elsewhere', { status: 302, headers: { location: 'file:///etc/passwd' } });
    expect(await fetchIt(feed(site.url('/elsewhere'), true))).toMatchObject({
      kind: 'failed',
      reason: expect.stringContaining('follows only http(s)'),
    });
    // Another host is fine (sites move feeds); each hop's address is checked as the feed's is.
    site.failNext('/away', { status: 307, headers: { location: peer.url('/x') } });
    await fetchIt(feed(site.url('/away'), true));
    expect(peer.received).toHaveLength(1);
  });

  it('cuts a feed off past 5 MiB, even when the server does not say how long it is', async () => {
    peer.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      const chunk = Buffer.alloc(512 * 1024, 'a');
      let sent = 0;
      const more = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64 && !res.destroyed) res.once('drain', more);
        else res.end();
      };
      more();
    });
    expect(await fetchIt(feed(peer.url('/big.xml'), true))).toMatchObject({
      kind: 'failed',
      reason: 'feed "forum" is larger than 5 MiB, more than carebot reads',
    });
  });

  describe('webhook replies', () => {
    const request: ReplyRequest = {
      replyId: 1,
      caseId: 7,
      sourceKey: 'webhook:forum',
      conversationId: 'thread-1',
      inReplyTo: 'post-1',
      customerId: 'jane',
      mode: 'public',
      text: 'Sorry about that, Jane',
      agent: { id: 'U0AGENT001', name: 'Sam' },
      idempotencyKey: 'reply-1',
    };
    const source = (replyUrl: string, allowPrivateNetwork = true): WebhookSourceConfig => ({
      secret: WEBHOOK_SECRET,
      replyUrl,
      allowPrivateNetwork,
      channel: 'CFORUM',
    });
    const send = (s: WebhookSourceConfig) => webhookReplyAdapter(s, systemClock).reply(request);

    it('never re-sends a signed reply to where a redirect points', async () => {
      for (const status of [301, 302, 303, 307, 308]) {
        peer.answer((_req, res) => {
          res.writeHead(status, { location: other.url('/steal', 'localhost') });
          res.end();
        });
        const outcome = await send(source(peer.url('/replies')));
        expect(outcome, String(status)).toMatchObject({
          ok: false,
          permanent: true,
          reason: expect.stringContaining(`redirected the reply (HTTP ${status})`),
        });
      }
      expect(peer.received).toHaveLength(5);
      expect(other.received).toEqual([]);
    });

    it('refuses a reply URL on the private network unless allowed, sending nothing', async () => {
      peer.answer((_req, res) => res.end('{"id":"p-9"}'));
      for (const host of ['127.0.0.1', 'localhost']) {
        const outcome = await send(source(peer.url('/replies', host), false));
        expect(outcome, host).toMatchObject({
          ok: false,
          permanent: true,
          reason: expect.stringContaining('allow_private_network'),
        });
      }
      expect(peer.received).toEqual([]);
      expect(await send(source(peer.url('/replies')))).toEqual({ ok: true, externalId: 'p-9' });
    });

    it(`reads at most ${MAX_RESPONSE_BYTES / 1024} KiB of the receiver's answer`, async () => {
      let written = 0;
      peer.answer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, ' ');
        const more = () => {
          while (written < 200 * 1024 * 1024 && !res.destroyed && res.write(chunk)) written += chunk.length;
          if (!res.destroyed && written < 200 * 1024 * 1024) res.once('drain', more);
        };
        res.on('close', () => {});
        more();
      });
      const started = performance.now();
      const outcome = await send(source(peer.url('/replies')));
      // Delivered (the receiver said 200), without waiting for the end of an endless answer.
      expect(outcome).toEqual({ ok: true });
      expect(performance.now() - started).toBeLessThan(5000);
      expect(written).toBeLessThan(50 * 1024 * 1024);
    });
  });
});
