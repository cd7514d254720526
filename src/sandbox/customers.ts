import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the sandbox page shows on its customer side, whatever the platform: each customer post and
 * each answer from the brand is an item; an item's `parentId` is the post it sits under, so the
 * page can draw every conversation as the platform would (a reply under the post it answers).
 */

export type CustomerPlatform = 'x' | 'facebook' | 'forum';

export interface CustomerItem {
  platform: CustomerPlatform;
  id: string;
  /** The conversation it belongs to, unique within its platform (the root post's id). */
  conversationId: string;
  /** The post it answers or sits under; unset for a conversation's first post. */
  parentId?: string | undefined;
  /** A customer's post, or the brand's public answer, or the brand's private message. */
  kind: 'customer' | 'brand' | 'private';
  author: { name: string; handle?: string | undefined; followers?: number | undefined };
  text: string;
  at: string;
  url?: string | undefined;
  /** How the post got to carebot: "case #3", "delivered", or what went wrong. */
  status?: string | undefined;
  /** The case carebot answered with, where the platform's webhook answer names it (the forum). */
  caseId?: number | undefined;
  /** False when the brand's answer did not carry a valid signature (the forum's reply_url). */
  verified?: boolean | undefined;
}

/** A complaint or follow-up typed on the page's customer side. */
export interface NewPost {
  name: string;
  handle?: string;
  followers?: number;
  text: string;
  /** A follow-up joins this conversation; without it the post starts a new one. */
  conversationId?: string;
}

/** A simulated platform on the customer side. */
export interface CustomerSide {
  readonly platform: CustomerPlatform;
  post(input: NewPost): Promise<CustomerItem>;
  items(): CustomerItem[];
  on(event: 'change', listener: () => void): unknown;
}

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

/** A username from a display name: lower case letters, digits and underscores. */
export function handleOf(input: Pick<NewPost, 'name' | 'handle'>): string {
  const handle = (input.handle ?? input.name).toLowerCase().replace(/[^a-z0-9_]+/g, '');
  return handle || 'guest';
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
