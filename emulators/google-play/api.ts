import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { GooglePlayAccount } from '../../src/sources/google_play/config.js';
import { type Answer, closeServer, FailureQueue, listenOnLoopback, readText, sendAnswer } from '../http.js';

/**
 * A local Google Play Developer API that answers like Google's: the OAuth 2 token endpoint of
 * service accounts (`POST /token`, the JWT bearer grant of RFC 7523, the RS256 assertion verified
 * with the account's public key: issuer, audience, scope, at most an hour), and the Android
 * Publisher API's `reviews.list` (newest change first, `maxResults`, `token` paging through
 * `tokenPagination.nextPageToken`, only reviews changed within the last week), `reviews.get` and
 * `reviews.reply` (`{replyText}` → `{result: {replyText, lastEdited}}`, one reply per review,
 * 350 characters), with Google's error bodies `{error: {code, message, status}}` and 429s.
 */

export interface FakeServiceAccount {
  clientEmail: string;
  keyId: string;
  publicKey: KeyObject;
  /** Apps the account was invited to in Play Console. */
  packages: string[];
}

/** A service account's key file as the Cloud console downloads it, and the public half for the fake. */
export interface ServiceAccountKeyPair {
  keyFile: {
    type: 'service_account';
    project_id: string;
    private_key_id: string;
    private_key: string;
    client_email: string;
    client_id: string;
    auth_uri: string;
    token_uri: string;
  };
  account: FakeServiceAccount;
}

/** A fresh RSA key for a made-up service account (the key never leaves the test or sandbox). */
export function fakeServiceAccountKey(input: {
  tokenUri: string;
  packages: string[];
  clientEmail?: string;
}): ServiceAccountKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = input.clientEmail ?? 'carebot@acme-care.iam.gserviceaccount.com';
  const keyId = randomBytes(20).toString('hex');
  return {
    keyFile: {
      type: 'service_account',
      project_id: 'acme-care',
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: '100000000000000000001',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: input.tokenUri,
    },
    account: { clientEmail, keyId, publicKey, packages: input.packages },
  };
}

export interface FakeReview {
  reviewId: string;
  packageName: string;
  authorName: string;
  text: string;
  stars: number;
  /** Seconds since the epoch of the customer's latest change. */
  lastModified: number;
  language: string;
  device: string;
  productName: string | undefined;
  androidOsVersion: number;
  appVersionCode: number;
  appVersionName: string;
  reply: { text: string; lastEdited: number } | undefined;
}

export interface FakePlayCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  bearer: string | undefined;
  status: number;
}

export interface FakePlayFailure {
  status: number;
  headers?: Record<string, string>;
  /** Defaults to Google's `{"error": {code, message, status}}` for the status. */
  body?: unknown;
  times?: number;
  after?: number;
  method?: string;
  /** Do the request's work anyway and only answer with the failure: "it replied, then the answer was lost". */
  apply?: boolean;
}

export interface FakeGooglePlay {
  url: string;
  /** The token endpoint, the key file's `token_uri`. */
  tokenUrl: string;
  calls: FakePlayCall[];
  callsTo(method: string, pathPart: string): FakePlayCall[];
  tokenCalls(): FakePlayCall[];
  reviews: FakeReview[];
  /** Developer replies made through `reviews.reply`, in order. */
  replies: Array<{ reviewId: string; text: string }>;
  addReview(input: {
    packageName: string;
    authorName?: string;
    text: string;
    /** Play joins a title to the body with a tab. */
    title?: string;
    stars: number;
    at?: Date;
    language?: string;
    device?: string;
    productName?: string;
    androidOsVersion?: number;
    appVersionName?: string;
  }): FakeReview;
  /** The author changes their review: new text and rating, a new `lastModified`. */
  editReview(reviewId: string, change: { text?: string; stars?: number; at?: Date }): FakeReview;
  /** The developer reply, as if written in Play Console. */
  setReply(reviewId: string, text: string): void;
  /** The next request(s) whose path starts with `pathPrefix` (review ids URL-encoded) get this answer instead. */
  failNext(pathPrefix: string, failure: FakePlayFailure): void;
  /** Every access token issued so far stops working (the API answers 401). */
  revokeTokens(): void;
  /** A new service account with a fresh key, invited to `packages`; its key file points at this fake. */
  addServiceAccount(input: { packages: string[]; clientEmail?: string }): ServiceAccountKeyPair;
  /** The key is deleted in the Cloud console: grants signed with it get `invalid_grant`. */
  deleteKey(keyId: string): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const STATUS_MESSAGES: Record<number, string> = {
  401: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: "Quota exceeded for quota metric 'Queries' and limit 'Queries per hour'.",
  500: 'Internal error encountered.',
  503: 'The service is currently unavailable.',
};

export const googleErrorBody = (status: number, message?: string) => ({
  error: {
    code: status,
    message: message ?? STATUS_MESSAGES[status] ?? 'Error',
    status: STATUS_NAMES[status] ?? 'UNKNOWN',
  },
});

const SCOPE = 'https://www.googleapis.com/auth/androidpublisher';
const WEEK_SECONDS = 7 * 24 * 3600;
const REVIEWS = /^\/androidpublisher\/v3\/applications\/([^/]+)\/reviews(?:\/([^/:]+)(:reply)?)?$/;

/** A Google Play app for tests; the key file path is the test's own. */
export function fakePlayAccount(over: Partial<GooglePlayAccount> = {}): GooglePlayAccount {
  return {
    name: 'app',
    packageName: 'com.acme.shop',
    credentialsFile: '/nonexistent/key.json',
    channel: 'C0PLAYCARE',
    priorityByRating: { 1: 'P2', 2: 'P2' },
    ...over,
  } as GooglePlayAccount;
}

export async function startFakeGooglePlay(options: {
  accounts?: FakeServiceAccount[];
  now?: () => Date;
  /** `expires_in` of issued tokens (Google: 3599). */
  expiresIn?: number;
  /** Told of each developer reply made through the API (the sandbox's page redraws). */
  onReply?: (reply: { reviewId: string; text: string }) => void;
}): Promise<FakeGooglePlay> {
  const now = options.now ?? (() => new Date());
  const accounts = [...(options.accounts ?? [])];
  const nowSeconds = () => Math.floor(now().getTime() / 1000);
  const calls: FakePlayCall[] = [];
  const reviews: FakeReview[] = [];
  const replies: Array<{ reviewId: string; text: string }> = [];
  const tokens = new Map<string, { clientEmail: string; expiresAt: number; revoked: boolean }>();
  const deletedKeys = new Set<string>();
  const failures = new FailureQueue<FakePlayFailure>();
  let counter = 0;
  let url = '';

  const addReview: FakeGooglePlay['addReview'] = (input) => {
    counter += 1;
    const review: FakeReview = {
      reviewId: `gp:AOqpTO${randomBytes(12).toString('base64url')}${counter}`,
      packageName: input.packageName,
      authorName: input.authorName ?? 'Jane Doe',
      text: input.title ? `${input.title}\t${input.text}` : input.text,
      stars: input.stars,
      lastModified: Math.floor((input.at ?? now()).getTime() / 1000),
      language: input.language ?? 'en',
      device: input.device ?? 'panther',
      productName: input.productName ?? 'panther (Pixel 7)',
      androidOsVersion: input.androidOsVersion ?? 34,
      appVersionCode: 4021,
      appVersionName: input.appVersionName ?? '4.2.1',
      reply: undefined,
    };
    reviews.push(review);
    return review;
  };

  const find = (packageName: string, reviewId: string) =>
    reviews.find((r) => r.packageName === packageName && r.reviewId === reviewId);

  const render = (r: FakeReview) => ({
    reviewId: r.reviewId,
    authorName: r.authorName,
    comments: [
      {
        userComment: {
          text: r.text,
          lastModified: { seconds: String(r.lastModified), nanos: 0 },
          starRating: r.stars,
          reviewerLanguage: r.language,
          device: r.device,
          androidOsVersion: r.androidOsVersion,
          appVersionCode: r.appVersionCode,
          appVersionName: r.appVersionName,
          thumbsUpCount: 0,
          thumbsDownCount: 0,
          deviceMetadata: {
            ...(r.productName ? { productName: r.productName } : {}),
            manufacturer: 'Google',
            deviceClass: 'phone',
            screenWidthPx: 1080,
            screenHeightPx: 2400,
            nativePlatform: 'armeabi-v7a,arm64-v8a',
            screenDensityDpi: 420,
            glEsVersion: 196610,
            ramMb: 8192,
          },
        },
      },
      ...(r.reply
        ? [
            {
              developerComment: {
                text: r.reply.text,
                lastModified: { seconds: String(r.reply.lastEdited), nanos: 0 },
              },
            },
          ]
        : []),
    ],
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestUrl = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const raw = await readText(req);
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown = raw;
    if (/x-www-form-urlencoded/.test(contentType)) body = Object.fromEntries(new URLSearchParams(raw));
    else if (/json/.test(contentType)) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const call: FakePlayCall = {
      method: req.method ?? 'GET',
      path: requestUrl.pathname,
      query: Object.fromEntries(requestUrl.searchParams),
      body,
      bearer: /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1],
      status: 0,
    };
    const failure = failures.take(call.method, call.path);
    let answer: Answer;
    if (failure && !failure.apply) answer = failureAnswer(failure);
    else {
      answer = call.path === '/token' ? await issueToken(call) : api(call);
      if (failure) answer = failureAnswer(failure);
    }
    call.status = answer.status;
    calls.push(call);
    sendAnswer(res, answer);
  };

  const failureAnswer = (failure: FakePlayFailure): Answer => ({
    status: failure.status,
    ...(failure.headers ? { headers: failure.headers } : {}),
    body: failure.body ?? googleErrorBody(failure.status),
  });

  const grantError = (description: string): Answer => ({
    status: 400,
    body: { error: 'invalid_grant', error_description: description },
  });

  const issueToken = async (call: FakePlayCall): Promise<Answer> => {
    const form = (typeof call.body === 'object' && call.body ? call.body : {}) as Record<string, string>;
    if (call.method !== 'POST' || form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' },
      };
    }
    const assertion = form.assertion ?? '';
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(assertion).kid;
    } catch {
      return grantError(
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    const account = accounts.find((a) => a.keyId === kid);
    if (!account || deletedKeys.has(account.keyId)) return grantError('Invalid JWT Signature.');
    try {
      const { payload } = await jwtVerify(assertion, account.publicKey, {
        algorithms: ['RS256'],
        issuer: account.clientEmail,
        audience: `${url}/token`,
        currentDate: now(),
      });
      if (payload.scope !== SCOPE) return { status: 400, body: { error: 'invalid_scope' } };
      if (
        typeof payload.iat !== 'number' ||
        typeof payload.exp !== 'number' ||
        payload.exp - payload.iat > 3600
      )
        return grantError(
          'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
        );
    } catch {
      return grantError('Invalid JWT Signature.');
    }
    const expiresIn = options.expiresIn ?? 3599;
    const value = `ya29.fake-${randomBytes(16).toString('base64url')}`;
    tokens.set(value, {
      clientEmail: account.clientEmail,
      expiresAt: now().getTime() + expiresIn * 1000,
      revoked: false,
    });
    return { status: 200, body: { access_token: value, expires_in: expiresIn, token_type: 'Bearer' } };
  };

  const api = (call: FakePlayCall): Answer => {
    const token = call.bearer ? tokens.get(call.bearer) : undefined;
    if (!token || token.revoked || token.expiresAt <= now().getTime()) {
      return {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
        body: googleErrorBody(401),
      };
    }
    const match = REVIEWS.exec(call.path);
    if (!match) return { status: 404, body: googleErrorBody(404) };
    const packageName = decodeURIComponent(match[1] ?? '');
    const account = accounts.find((a) => a.clientEmail === token.clientEmail);
    if (!account?.packages.includes(packageName)) {
      return {
        status: 403,
        body: googleErrorBody(
          403,
          'The current user has insufficient permissions to perform the requested operation.',
        ),
      };
    }
    const reviewId = match[2] ? decodeURIComponent(match[2]) : undefined;
    const recent = (r: FakeReview) => r.lastModified > nowSeconds() - WEEK_SECONDS;
    if (!reviewId && call.method === 'GET') {
      const list = reviews
        .filter((r) => r.packageName === packageName && recent(r))
        .sort((a, b) => b.lastModified - a.lastModified);
      const size = Math.min(Math.max(Number(call.query.maxResults ?? 10) || 10, 1), 100);
      const start = call.query.token ? Number(Buffer.from(call.query.token, 'base64url').toString()) || 0 : 0;
      const page = list.slice(start, start + size);
      const more = start + size < list.length;
      return {
        status: 200,
        body: {
          pageInfo: { totalResults: list.length, resultPerPage: size, startIndex: start },
          ...(more
            ? { tokenPagination: { nextPageToken: Buffer.from(String(start + size)).toString('base64url') } }
            : {}),
          reviews: page.map(render),
        },
      };
    }
    const review = reviewId ? find(packageName, reviewId) : undefined;
    if (!review || !recent(review)) return { status: 404, body: googleErrorBody(404) };
    if (call.method === 'GET' && !match[3]) return { status: 200, body: render(review) };
    if (call.method === 'POST' && match[3]) {
      const text = (call.body as { replyText?: unknown } | undefined)?.replyText;
      if (typeof text !== 'string' || !text.trim()) {
        return { status: 400, body: googleErrorBody(400, 'Reply text must not be empty.') };
      }
      if ([...text].length > 350) {
        return {
          status: 400,
          body: googleErrorBody(400, 'The reply text is too long (max 350 characters).'),
        };
      }
      review.reply = { text, lastEdited: nowSeconds() };
      replies.push({ reviewId: review.reviewId, text });
      options.onReply?.({ reviewId: review.reviewId, text });
      return {
        status: 200,
        body: { result: { replyText: text, lastEdited: { seconds: String(nowSeconds()), nanos: 0 } } },
      };
    }
    return { status: 404, body: googleErrorBody(404) };
  };

  const started = await listenOnLoopback(
    (req, res) => handle(req, res),
    (error, res) => {
      if (!res.headersSent)
        sendAnswer(res, {
          status: 500,
          body: googleErrorBody(500, `fake google play crashed: ${String(error)}`),
        });
    },
  );
  url = started.url;

  return {
    url,
    tokenUrl: `${url}/token`,
    calls,
    callsTo: (method, part) => calls.filter((c) => c.method === method && c.path.includes(part)),
    tokenCalls: () => calls.filter((c) => c.path === '/token'),
    reviews,
    replies,
    addReview,
    editReview: (reviewId, change) => {
      const review = reviews.find((r) => r.reviewId === reviewId);
      if (!review) throw new TypeError(`fake google play: no review ${reviewId}`);
      if (change.text !== undefined) review.text = change.text;
      if (change.stars !== undefined) review.stars = change.stars;
      review.lastModified = Math.floor((change.at ?? now()).getTime() / 1000);
      return review;
    },
    setReply: (reviewId, text) => {
      const review = reviews.find((r) => r.reviewId === reviewId);
      if (!review) throw new TypeError(`fake google play: no review ${reviewId}`);
      review.reply = { text, lastEdited: nowSeconds() };
    },
    failNext: (prefix, failure) => failures.add(prefix, failure),
    revokeTokens: () => {
      for (const token of tokens.values()) token.revoked = true;
    },
    addServiceAccount: (input) => {
      const pair = fakeServiceAccountKey({ tokenUri: `${url}/token`, ...input });
      accounts.push(pair.account);
      return pair;
    },
    deleteKey: (keyId) => {
      deletedKeys.add(keyId);
    },
    close: () => closeServer(started.server),
  };
}
