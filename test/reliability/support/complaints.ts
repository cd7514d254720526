import { randomBytes } from 'node:crypto';
import { signWebhook } from '../../../src/sources/webhook/verify.js';
import { WEBHOOK_SECRET } from './env.js';

export interface Complaint {
  source: string;
  id: string;
  conversationId: string;
  author: { id: string; name?: string; handle?: string; url?: string; followers?: number };
  text: string;
  url?: string;
  createdAt?: string;
}

/** A generic-webhook body; its text carries the id, so every Slack post can be traced to its message. */
export function complaint(id: string, conversationId = id, overrides: Partial<Complaint> = {}): Complaint {
  return {
    source: 'forum',
    id,
    conversationId,
    author: { id: `u-${conversationId}`, name: 'Jane Doe', handle: 'jane' },
    text: `My order never arrived [${id}]`,
    ...overrides,
  };
}

/** Standard Webhooks headers for a body, signed at `at` (now by default) with carebot's secret. */
export function signedHeaders(
  raw: string,
  opts: { at?: Date; id?: string; secret?: string } = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...signWebhook(
      opts.secret ?? WEBHOOK_SECRET,
      opts.id ?? `msg_${randomBytes(8).toString('hex')}`,
      opts.at ?? new Date(),
      raw,
    ),
  };
}

export interface WebhookAnswer {
  /** 0 when no HTTP answer came (connection refused or cut). */
  status: number;
  json: Record<string, unknown> | undefined;
  /** Date.now() when the answer arrived. */
  at: number;
  /** Date.now() when the request was sent. */
  sentAt: number;
}

/** POSTs a signed complaint to carebot's generic webhook; a cut connection is status 0, not a throw. */
export async function postComplaint(
  baseUrl: string,
  body: unknown,
  opts: { at?: Date; headers?: Record<string, string>; raw?: string } = {},
): Promise<WebhookAnswer> {
  const raw = opts.raw ?? JSON.stringify(body);
  const sentAt = Date.now();
  try {
    const res = await fetch(`${baseUrl}/sources/webhook`, {
      method: 'POST',
      headers: { ...signedHeaders(raw, opts.at ? { at: opts.at } : {}), ...opts.headers },
      body: raw,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, at: Date.now(), sentAt };
  } catch {
    return { status: 0, json: undefined, at: Date.now(), sentAt };
  }
}

/**
 * What a Standard Webhooks sender does: POST until the answer is a 2xx, waiting between tries.
 * Returns every answer, the last one being the 2xx (or the last failure when `deadline` passed).
 */
export async function deliverComplaint(
  baseUrl: () => string,
  body: unknown,
  deadline: number,
  waitMs = 250,
): Promise<WebhookAnswer[]> {
  const answers: WebhookAnswer[] = [];
  for (;;) {
    const answer = await postComplaint(baseUrl(), body);
    answers.push(answer);
    if ((answer.status >= 200 && answer.status < 300) || Date.now() > deadline) return answers;
    await new Promise((r) => setTimeout(r, waitMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}
