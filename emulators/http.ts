import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What every emulator needs to serve HTTP: a loopback server, JSON answers, a call log, ids. */

/** One request carebot made to a fake platform API, and the status it got. */
export interface ApiCall {
  method: string;
  path: string;
  status: number;
}

export function recordCall(calls: ApiCall[], call: ApiCall): void {
  calls.push(call);
  if (calls.length > 200) calls.splice(0, calls.length - 200);
}

/** An HTTP server on 127.0.0.1 and a free port, for a fake platform API. */
export async function listenOnLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (err: unknown, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => onError(err, res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export function sendBody(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Snowflake-like ids past 2^53, as X and Meta give them: a Number() anywhere would round them. */
export function idSequence(base: bigint): () => string {
  let counter = 0n;
  return () => {
    counter += 1n;
    return String(base + counter * 1_000_003n);
  };
}

/** Where a server started by `listenOnLoopback` listens, from its URL. */
export function addressOf(url: string): AddressInfo {
  const { hostname, port } = new URL(url);
  return { address: hostname, family: 'IPv4', port: Number(port) };
}

/** An emulator's answer: sent as JSON (an undefined body as an empty one). */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export function sendAnswer(res: ServerResponse, answer: Answer): void {
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...answer.headers,
  });
  res.end(text);
}

/** The whole request body as text (emulators take what they are given: no size limit). */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A request as the platform emulators read it: its URL, and its body parsed as JSON; a body that is
 * not JSON is kept as `raw` text, or read as a form when `notJson` is 'form'.
 */
export async function readRequest(
  req: IncomingMessage,
  notJson: 'raw' | 'form',
): Promise<{ url: URL; body: unknown }> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  const raw = await readText(req);
  try {
    return { url, body: raw ? JSON.parse(raw) : undefined };
  } catch {
    return { url, body: notJson === 'form' ? Object.fromEntries(new URLSearchParams(raw)) : raw };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a test injects: how many matching requests fail, after how many pass, for which method. */
export interface FailureRule {
  /** How many matching requests fail (default 1). */
  times?: number;
  /** How many matching requests go through first (default 0). */
  after?: number;
  /** Only requests with this method (default any). */
  method?: string;
}

/** Failures injected by path prefix, used up in order: `failNext` of every platform emulator. */
export class FailureQueue<F extends FailureRule> {
  private readonly queue: Array<{ failure: F; prefix: string; remaining: number; passes: number }> = [];

  add(prefix: string, failure: F): void {
    this.queue.push({ failure, prefix, remaining: failure.times ?? 1, passes: failure.after ?? 0 });
  }

  /** The failure this request gets, if any (and one use of it spent). */
  take(method: string, path: string): F | undefined {
    const entry = this.queue.find(
      (e) => path.startsWith(e.prefix) && (!e.failure.method || e.failure.method === method),
    );
    if (!entry) return undefined;
    if (entry.passes > 0) {
      entry.passes -= 1;
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.queue.splice(this.queue.indexOf(entry), 1);
    return entry.failure;
  }
}
