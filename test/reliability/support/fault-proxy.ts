import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  /** HTTP status every call answers with while the fault lasts (500, 503, 429…). */
  status: number;
  /** Retry-After seconds, for a 429. */
  retryAfter?: number;
}

export interface FaultProxy {
  /** Web API base URL with a trailing slash: point SLACK_API_URL here instead of at the fake. */
  url: string;
  /** While set, every call is answered with the fault and never reaches the fake. */
  setFault(fault: Fault | undefined): void;
  /**
   * Enforces about `perSecond` chat.postMessage calls per channel, as Slack does (a token bucket
   * holding one token): a call over the limit gets 429 with Retry-After in whole seconds.
   * Undefined lifts the limit.
   */
  limitPostsPerChannel(perSecond: number | undefined): void;
  /**
   * Runs after the fake answered a call and before the answer is passed on: Slack has done the
   * thing, and the caller has not heard yet (where a crash makes an action happen twice).
   */
  beforeAnswer(hook: ((method: string, body: string) => Promise<void> | void) | undefined): void;
  stats: { forwarded: number; faulted: number; limited: number };
  close(): Promise<void>;
}

/**
 * A proxy in front of the fake Slack (emulators/slack/web-api.ts) that injects what the fake cannot
 * do by itself: a time-boxed outage of every method, and Slack's per-channel posting limit.
 */
export async function startFaultProxy(upstreamBase: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamBase);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let fault: Fault | undefined;
  let perSecond: number | undefined;
  let hook: ((method: string, body: string) => Promise<void> | void) | undefined;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const stats = { forwarded: 0, faulted: 0, limited: 0 };

  /** Seconds until the channel may post again, or 0 when it may post now (and a token is taken). */
  const take = (channel: string): number => {
    if (!perSecond) return 0;
    const now = Date.now();
    const bucket = buckets.get(channel) ?? { tokens: 1, at: now };
    bucket.tokens = Math.min(1, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(channel, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / perSecond;
  };

  const server = createServer(async (req, res) => {
    const body = await readAll(req);
    if (fault) {
      stats.faulted += 1;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (fault.status === 429) {
        headers['retry-after'] = String(fault.retryAfter ?? 1);
        headers['content-type'] = 'application/json';
        res.writeHead(429, headers).end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      res.writeHead(fault.status, headers).end(`injected HTTP ${fault.status}`);
      return;
    }
    if (perSecond && req.url?.includes('/chat.postMessage')) {
      const wait = take(channelOf(req, body));
      if (wait > 0) {
        stats.limited += 1;
        res
          .writeHead(429, {
            'content-type': 'application/json',
            'retry-after': String(Math.max(1, Math.ceil(wait))),
          })
          .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
    }
    stats.forwarded += 1;
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
        agent,
      },
      (upstreamRes) => {
        void readAll(upstreamRes).then(async (answer) => {
          await hook?.((req.url ?? '').split('/').at(-1)?.split('?')[0] ?? '', body.toString('utf8'));
          if (res.destroyed) return;
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          res.end(answer);
        });
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('proxy: upstream unreachable');
    });
    forward.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    setFault: (f) => {
      fault = f;
    },
    limitPostsPerChannel: (rate) => {
      perSecond = rate;
      buckets.clear();
    },
    beforeAnswer: (h) => {
      hook = h;
    },
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function channelOf(req: IncomingMessage, body: Buffer): string {
  const text = body.toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('json')) {
    try {
      return String((JSON.parse(text) as { channel?: unknown }).channel ?? '');
    } catch {
      return '';
    }
  }
  return new URLSearchParams(text).get('channel') ?? '';
}
