import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Database, ping } from '../db/client.js';
import type { Logger } from '../logger.js';
import { sendJson } from './body.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Routes {
  /** `METHOD /path` → handler. */
  [route: string]: Handler;
}

/**
 * carebot's one HTTP server on PORT: health, source webhooks, and Slack's requests in HTTP mode.
 * It runs in Socket Mode too, since platforms still need to reach the webhooks.
 */
export function createHttpServer(routes: Routes, logger: Logger): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const handler = routes[`${method} ${path}`];
    if (!handler) {
      const allowed = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
      sendJson(res, allowed ? 405 : 404, { error: allowed ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err) => {
        logger.error({ err, path }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error; nothing was stored, try again' });
        else res.end();
      });
  });
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

export async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
