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
