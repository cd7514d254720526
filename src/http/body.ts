import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodType } from 'zod';
import { NOT_WELL_FORMED, wellFormedBody } from './well-formed.js';

export class BodyTooLarge extends Error {}

/** How long a refused upload is read and discarded after its 413, before the socket is destroyed. */
const LINGER_MS = 1000;

/** Reads a request body as text, refusing (without buffering the rest) past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return (await readRawBody(req, limit)).toString('utf8');
}

/**
 * Reads a request body as bytes, refusing (without buffering the rest) past `limit` bytes. The
 * request is paused, not destroyed, at the limit, so the caller can still answer 413 on its socket.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('the request was closed before its body was read'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Answers 413 and closes the connection once the answer is out, instead of reading (or draining)
 * the rest of an upload that may never end.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const socket = req.socket;
  res.setHeader('connection', 'close');
  res.once('finish', () => {
    // Hang up after the answer; what the client still sends is discarded for at most a second
    // (so the close is not a reset that could lose the 413 on its way), then the socket goes.
    socket.end();
    req.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
  sendJson(res, 413, { error: `body larger than ${limit} bytes` });
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
      refuseTooLarge(req, res, opts.limit);
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
