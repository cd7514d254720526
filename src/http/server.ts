import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Database, ping } from '../db/client.js';
import type { Logger } from '../logger.js';
import { sendJson } from './body.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Routes {
  /** `METHOD /path` → handler. */
  [route: string]: Handler;
}

/** How long a slow or hostile client may hold a connection, and how many it may hold. */
export interface ServerLimits {
  /** Time to receive a request's headers (default 10 s); then 408 and the connection is closed. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (default 20 s); then 408 and closed. */
  requestTimeoutMs?: number;
  /** Connections held open at once (default 1000, HTTP_MAX_CONNECTIONS); more are closed at once. */
  maxConnections?: number;
  /** How often the timeouts above are checked (default 1 s). */
  checkIntervalMs?: number;
}

/** Told of every answered request: the route pattern it matched (`unmatched` when none), its status, its duration. */
export type RequestObserver = (route: string, status: number, seconds: number) => void;

/** The route label of requests that matched no route: one label, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

export const SERVER_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  maxConnections: 1000,
  checkIntervalMs: 1000,
} as const satisfies Required<ServerLimits>;

/**
 * carebot's one HTTP server on PORT: health, source webhooks, and Slack's requests in HTTP mode.
 * It runs in Socket Mode too, since platforms still need to reach the webhooks. A request that
 * trickles in (a body at a byte a second) is cut off by the timeouts in `limits`.
 */
export function createHttpServer(
  routes: Routes,
  logger: Logger,
  limits: ServerLimits = {},
  observe?: RequestObserver,
): Server {
  const { maxConnections, ...timeouts } = { ...SERVER_LIMITS, ...limits };
  const server = createServer(nodeServerOptions(timeouts), (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const route = `${method} ${path}`;
    const handler = routes[route];
    if (observe) {
      // The pattern, never the raw URL: a label per route, one for everything unknown.
      const label = handler ? route : UNMATCHED_ROUTE;
      const started = process.hrtime.bigint();
      res.once('close', () => {
        observe(label, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      });
    }
    if (!handler) {
      const allowed = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
      sendJson(res, allowed ? 405 : 404, { error: allowed ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err) => {
        const unavailable = isDatabaseUnavailable(err);
        logger.error({ err, path }, unavailable ? 'request failed: database unavailable' : 'request failed');
        if (res.headersSent) {
          res.end();
        } else if (unavailable) {
          // The sender should retry: nothing was stored, and the database will be back.
          res.setHeader('retry-after', '30');
          sendJson(res, 503, { error: 'the database is unavailable; nothing was stored, try again shortly' });
        } else {
          sendJson(res, 500, { error: 'internal error; nothing was stored, try again' });
        }
      });
  });
  server.maxConnections = maxConnections;
  return server;
}

function nodeServerOptions(t: Omit<Required<ServerLimits>, 'maxConnections'>): ServerOptions {
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    connectionsCheckingInterval: t.checkIntervalMs,
  };
}

export function healthHandler(db: Database): Handler {
  return async (_req, res) => {
    try {
      await ping(db);
      sendJson(res, 200, { status: 'ok', database: 'ok' });
    } catch {
      sendJson(res, 503, { status: 'unavailable', database: 'unreachable' });
    }
  };
}

/** Listens on `port` (0: a free one) of `host`, all interfaces when unset; resolves with the port. */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Whether an error means the database cannot be reached (not that the request was wrong). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    // Node's socket errors, postgres.js's own, and PostgreSQL's connection and shutdown classes.
    if (
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT)$/.test(
        code,
      ) ||
      /^(08|57P0)/.test(code)
    ) {
      return true;
    }
    e = e.cause as typeof e;
  }
  return false;
}
