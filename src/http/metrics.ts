import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metrics } from '../metrics.js';
import type { Handler } from './server.js';

/**
 * `GET /metrics` in Prometheus' text format. With a token, only `Authorization: Bearer <token>`
 * gets it: compared in constant time (as digests, so the length of a wrong token tells nothing),
 * and neither token is ever logged.
 */
export function metricsHandler(metrics: Metrics, token: string | undefined): Handler {
  const expected = token ? digest(token) : undefined;
  return async (req, res) => {
    if (expected && !authorised(req.headers.authorization, expected)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end('metrics need Authorization: Bearer <METRICS_TOKEN>\n');
      return;
    }
    const body = await metrics.scrape();
    res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

function authorised(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  return timingSafeEqual(digest(match[1]), expected);
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
