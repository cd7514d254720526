import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedReply {
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Whether the Standard Webhooks signature checked out with the receiver's secret. */
  verified: boolean;
}

export interface ReplyReceiver {
  url: string;
  received: ReceivedReply[];
  /** Queues answers for the next POSTs (default: 200 with `{ id, url }`). */
  answerNext(...answers: Array<{ status: number; body?: string; headers?: Record<string, string> }>): void;
  /**
   * Answers each POST by its `webhook-id` and how often that id came (1 for the first attempt);
   * undefined falls back to the queue and then the default. Queued answers come first.
   */
  answerByAttempt(
    answer?: (
      attempt: number,
      reply: ReceivedReply,
    ) => { status: number; body?: string; headers?: Record<string, string> } | undefined,
  ): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedReply[]>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * The other end of the generic webhook: a forum or gateway that receives carebot's replies. It
 * checks each signature with the shared secret and answers as told.
 */
export async function startReplyReceiver(secret: string): Promise<ReplyReceiver> {
  const received: ReceivedReply[] = [];
  let answers: Array<{ status: number; body?: string; headers?: Record<string, string> }> = [];
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  let byAttempt: Parameters<ReplyReceiver['answerByAttempt']>[0];
  const attempts = new Map<string, number>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    let verified = true;
    try {
      new Webhook(secret).verify(raw, headers);
    } catch {
      verified = false;
    }
    const reply = { headers, body: JSON.parse(raw) as Record<string, unknown>, verified };
    received.push(reply);
    const key = headers['webhook-id'] ?? '';
    attempts.set(key, (attempts.get(key) ?? 0) + 1);
    const answer = answers.shift() ??
      byAttempt?.(attempts.get(key) ?? 1, reply) ?? {
        status: 200,
        body: JSON.stringify({
          id: `post-${received.length}`,
          url: `https://forum.example/p/${received.length}`,
        }),
      };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body ?? '');
    for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
    waiters = waiters.filter((w) => received.length < w.count);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/carebot/replies`,
    received,
    answerNext: (...next) => {
      answers.push(...next);
    },
    answerByAttempt: (answer) => {
      byAttempt = answer;
    },
    waitFor: (count, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        if (received.length >= count) return resolve(received);
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} replies, got ${received.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received);
          },
        });
      }),
    reset: () => {
      received.length = 0;
      answers = [];
      byAttempt = undefined;
      attempts.clear();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
