import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodType } from 'zod';
import { NOT_WELL_FORMED, wellFormedBody } from './well-formed.js';

export class BodyTooLarge extends Error {}

/** Reads a request body as text, refusing (without buffering the rest) past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return (await readRawBody(req, limit)).toString('utf8');
}

/** Reads a request body as bytes, refusing (without buffering the rest) past `limit` bytes. */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The front half of every signed platform webhook: read the body (413 past `limit`), check the
 * HMAC header against each configured secret (401, nothing read further), parse JSON (400) and
 * validate it (400 naming the fields). Returns the validated body and the secret that signed it, or
 * undefined once it answered.
 */
export async function readSignedJson<T>(
  req: IncomingMessage,
  res: ServerResponse,
  opts: {
    limit: number;
    header: string;
    secrets: string[];
    verify: (raw: string, signature: string | undefined, secret: string) => boolean;
    schema: ZodType<T>;
    /**
     * Keys whose strings are what a person wrote (a post's text, a name): a lone surrogate in them
     * becomes U+FFFD. Anywhere else (ids) it is refused with a 400 naming the field.
     */
    freeText?: ReadonlySet<string>;
    onRejected: (hadSignature: boolean) => void;
  },
): Promise<{ body: T; secret: string } | undefined> {
  let raw: string;
  try {
    raw = await readBody(req, opts.limit);
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      sendJson(res, 413, { error: `body larger than ${opts.limit} bytes` });
      req.resume();
      return undefined;
    }
    throw err;
  }
  const header = req.headers[opts.header];
  const signature = Array.isArray(header) ? header[0] : header;
  const secret = opts.secrets.find((s) => opts.verify(raw, signature, s));
  if (secret === undefined) {
    opts.onRejected(Boolean(signature));
    sendJson(res, 401, { error: `invalid or missing ${opts.header}` });
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    sendJson(res, 400, { error: 'body is not valid JSON' });
    return undefined;
  }
  const wellFormed = wellFormedBody(body, opts.freeText ?? new Set());
  if (!wellFormed.ok) {
    sendJson(res, 400, {
      error: `invalid body: ${wellFormed.path}`,
      fields: [{ path: wellFormed.path, message: NOT_WELL_FORMED }],
    });
    return undefined;
  }
  const parsed = opts.schema.safeParse(wellFormed.body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({
      path: i.path.join('.') || '(body)',
      message: i.message,
    }));
    sendJson(res, 400, { error: `invalid body: ${fields.map((f) => f.path).join(', ')}`, fields });
    return undefined;
  }
  return { body: parsed.data, secret };
}
