import type { IncomingMessage } from 'node:http';

/** The names the sandbox page is reached by: it listens on 127.0.0.1 only. */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why a request to the sandbox page is refused for the name it was sent to, or undefined when that
 * name is a loopback one. A page elsewhere could otherwise point a name of its own at 127.0.0.1
 * (DNS rebinding) and read the sandbox's state and events as same-origin.
 */
export function hostProblem(req: IncomingMessage): { status: 421; error: string } | undefined {
  const host = req.headers.host ?? '';
  try {
    if (host && LOOPBACK_NAMES.has(new URL(`http://${host}`).hostname)) return undefined;
  } catch {
    // not a host name at all: refused below
  }
  return { status: 421, error: 'the sandbox answers only on 127.0.0.1, localhost or [::1]' };
}

/**
 * Why a POST to the sandbox page's API is refused, or undefined when it may go through.
 *
 * The API acts as the care team (claims, replies that "reach" customers), so only the page itself
 * may call it: any other page open in the same browser could otherwise post into it. Browsers send
 * `Origin` on every cross-origin POST, so a present Origin must be the page's own: http, the Host the
 * request was sent to, and that host a loopback name (a DNS-rebound name would match its own Host).
 * Tools such as `npm run demo` send no Origin and are let through. Only `application/json` is
 * taken: a cross-site form or `text/plain` fetch needs no preflight, JSON does.
 */
export function apiRequestProblem(req: IncomingMessage): { status: 403 | 415; error: string } | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const host = req.headers.host ?? '';
    let ownHost = false;
    try {
      const url = new URL(host ? `http://${host}` : 'invalid:');
      ownHost = origin === `http://${host}` && LOOPBACK_NAMES.has(url.hostname);
    } catch {
      ownHost = false;
    }
    if (!ownHost) return { status: 403, error: 'only the sandbox page itself may use its API' };
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return { status: 415, error: 'expected content-type: application/json' };
  return undefined;
}
