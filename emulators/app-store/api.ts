import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { AppStoreAccount } from '../../src/sources/app_store/config.js';
import {
  type Answer,
  closeServer,
  FailureQueue,
  isRecord,
  listenOnLoopback,
  readText,
  sendAnswer,
} from '../http.js';

/**
 * A local App Store Connect that answers like Apple's: every request carries an ES256 JWT signed
 * with an API key's private key (checked here with the key's public key: `kid`, `iss`, `aud`
 * `appstoreconnect-v1`, at most 20 minutes of life); customer reviews listed newest first as
 * JSON:API with `include=response` and `links.next` paging; a review's response read, created and
 * deleted; JSON:API errors `{errors: [{status, code, title, detail}]}`; and the hourly budget in the
 * `X-Rate-Limit` header counting down to a 429.
 */

export interface FakeAppStoreKey {
  issuerId: string;
  keyId: string;
  /** The .p8 file's text, as App Store Connect hands it out once. */
  privateKeyPem: string;
  publicKey: KeyObject;
}

export interface FakeReview {
  id: string;
  appId: string;
  rating: number;
  title: string;
  body: string;
  reviewerNickname: string;
  createdDate: string;
  territory: string;
}

export interface FakeReviewResponse {
  id: string;
  reviewId: string;
  responseBody: string;
  lastModifiedDate: string;
  state: 'PENDING_PUBLISH' | 'PUBLISHED';
}

export interface FakeAppStoreCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The verified token's key id, when the token was good. */
  keyId: string | undefined;
  /** The token's header and payload as sent (decoded, unverified), for tests. */
  jwt: { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined;
  status: number;
}

export interface FakeAppStoreFailure {
  status: number;
  headers?: Record<string, string>;
  /** Defaults to Apple's JSON:API error for the status. */
  body?: unknown;
  times?: number;
  after?: number;
  method?: string;
  /** Do the request's work anyway and only answer with the failure: "it was sent, then the answer was lost". */
  apply?: boolean;
}

export interface FakeAppStore {
  url: string;
  calls: FakeAppStoreCall[];
  callsTo(method: string, pathPrefix: string): FakeAppStoreCall[];
  reviews: FakeReview[];
  /** Current responses by review id. */
  responses: Map<string, FakeReviewResponse>;
  /** Responses created through the API, in order. */
  sent: FakeReviewResponse[];
  /** Ids of responses deleted through the API, in order. */
  deleted: string[];
  addReview(input: {
    appId?: string;
    rating?: number;
    title?: string;
    body: string;
    nickname?: string;
    territory?: string;
    createdAt?: string | Date;
  }): FakeReview;
  /** A response written in App Store Connect itself (not by carebot). */
  addResponse(reviewId: string, responseBody: string): FakeReviewResponse;
  failNext(pathPrefix: string, failure: FakeAppStoreFailure): void;
  /** What the hourly budget counts down from (`user-hour-rem`). */
  setRateLimit(remaining: number): void;
  /** The key stops working (revoked in App Store Connect): every request answers 401. */
  revokeKey(keyId: string): void;
  close(): Promise<void>;
}

export interface FakeAppStoreOptions {
  keys: FakeAppStoreKey[];
  /** Apps that exist (reviews of others answer 404). */
  appIds: string[];
  now?: () => Date;
  /** Called after carebot created or deleted a response (the sandbox page redraws). */
  onChange?: () => void;
  pageSize?: number;
}

/** A new P-256 API key, as App Store Connect generates one. */
export function fakeAppStoreKey(
  over: Partial<Pick<FakeAppStoreKey, 'issuerId' | 'keyId'>> = {},
): FakeAppStoreKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    issuerId: over.issuerId ?? '57246542-96fe-1a63-e053-0824d011072a',
    keyId: over.keyId ?? '2X9R4HXF34',
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
  };
}

/** An App Store app for tests, signing with `key`; the key's text must never show up in logs or errors. */
export function fakeAppStoreAccount(
  key: FakeAppStoreKey,
  over: Partial<AppStoreAccount> = {},
): AppStoreAccount {
  return {
    name: 'acme',
    issuerId: key.issuerId,
    keyId: key.keyId,
    privateKey: key.privateKeyPem,
    appId: '1234567890',
    channel: 'C0ASCARE01',
    ...over,
  };
}

const HOURLY = 3600;
const TITLES: Record<number, { code: string; title: string; detail: string }> = {
  401: {
    code: 'NOT_AUTHORIZED',
    title: 'Authentication credentials are missing or invalid.',
    detail:
      'Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens',
  },
  403: {
    code: 'FORBIDDEN_ERROR',
    title: 'This request is forbidden for security reasons',
    detail: 'The API key in use does not allow this request',
  },
  404: {
    code: 'NOT_FOUND',
    title: 'The specified resource does not exist',
    detail: 'The path provided does not match a defined resource type.',
  },
  409: {
    code: 'STATE_ERROR',
    title: 'The request cannot be fulfilled because of the state of another resource.',
    detail: 'The request conflicts with the current state.',
  },
  429: {
    code: 'RATE_LIMIT_EXCEEDED',
    title: 'The request rate limit has been reached.',
    detail:
      "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
  },
  500: {
    code: 'UNEXPECTED_ERROR',
    title: 'An unexpected error occurred.',
    detail:
      'An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.',
  },
};

/** Apple's JSON:API error answer. */
export function appStoreError(status: number, over: { code?: string; title?: string; detail?: string } = {}) {
  const known = TITLES[status] ?? TITLES[500];
  return { errors: [{ id: randomUUID(), status: String(status), ...known, ...over }] };
}

export async function startFakeAppStore(options: FakeAppStoreOptions): Promise<FakeAppStore> {
  const now = options.now ?? (() => new Date());
  const calls: FakeAppStoreCall[] = [];
  const reviews: FakeReview[] = [];
  const responses = new Map<string, FakeReviewResponse>();
  const sent: FakeReviewResponse[] = [];
  const deleted: string[] = [];
  const revoked = new Set<string>();
  const failures = new FailureQueue<FakeAppStoreFailure>();
  const pageSize = options.pageSize ?? 200;
  let remaining = HOURLY;
  let counter = 0;
  let base = '';

  const nextId = () => {
    counter += 1;
    return `0000${counter.toString(16).padStart(4, '0')}-b08c-0014-729e-fbd5${counter.toString(16).padStart(8, '0')}`;
  };

  const addReview: FakeAppStore['addReview'] = (input) => {
    const review: FakeReview = {
      id: nextId(),
      appId: input.appId ?? options.appIds[0] ?? '1234567890',
      rating: input.rating ?? 1,
      title: input.title ?? '',
      body: input.body,
      reviewerNickname: input.nickname ?? 'Jane D.',
      // Whole seconds, as Apple gives them.
      createdDate: new Date(Math.floor(new Date(input.createdAt ?? now()).getTime() / 1000) * 1000)
        .toISOString()
        .replace('.000Z', 'Z'),
      territory: input.territory ?? 'USA',
    };
    reviews.push(review);
    return review;
  };

  const addResponse = (reviewId: string, responseBody: string): FakeReviewResponse => {
    const response: FakeReviewResponse = {
      id: nextId(),
      reviewId,
      responseBody,
      lastModifiedDate: now().toISOString(),
      state: 'PUBLISHED',
    };
    responses.set(reviewId, response);
    return response;
  };

  const renderResponse = (r: FakeReviewResponse) => ({
    type: 'customerReviewResponses',
    id: r.id,
    attributes: { responseBody: r.responseBody, lastModifiedDate: r.lastModifiedDate, state: r.state },
    relationships: {
      review: { links: { self: `${base}/v1/customerReviewResponses/${r.id}/relationships/review` } },
    },
    links: { self: `${base}/v1/customerReviewResponses/${r.id}` },
  });

  const renderReview = (r: FakeReview, include: boolean) => {
    const response = responses.get(r.id);
    return {
      type: 'customerReviews',
      id: r.id,
      attributes: {
        rating: r.rating,
        title: r.title,
        body: r.body,
        reviewerNickname: r.reviewerNickname,
        createdDate: r.createdDate,
        territory: r.territory,
      },
      relationships: {
        response: {
          links: {
            self: `${base}/v1/customerReviews/${r.id}/relationships/response`,
            related: `${base}/v1/customerReviews/${r.id}/response`,
          },
          ...(include
            ? { data: response ? { type: 'customerReviewResponses', id: response.id } : null }
            : {}),
        },
      },
      links: { self: `${base}/v1/customerReviews/${r.id}` },
    };
  };

  /** Verifies the bearer JWT as Apple does; the key id when it is good. */
  const authenticate = async (call: FakeAppStoreCall, authorization: string): Promise<string | undefined> => {
    const token = /^Bearer (.+)$/.exec(authorization)?.[1];
    if (!token) return undefined;
    try {
      const header = decodeProtectedHeader(token);
      const [, payloadPart = ''] = token.split('.');
      call.jwt = {
        header: header as Record<string, unknown>,
        payload: JSON.parse(Buffer.from(payloadPart, 'base64url').toString()) as Record<string, unknown>,
      };
      const key = options.keys.find((k) => k.keyId === header.kid);
      if (!key || revoked.has(key.keyId) || header.alg !== 'ES256' || header.typ !== 'JWT') return undefined;
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: ['ES256'],
        issuer: key.issuerId,
        audience: 'appstoreconnect-v1',
        currentDate: now(),
        requiredClaims: ['iat', 'exp'],
      });
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > 20 * 60) return undefined;
      return key.keyId;
    } catch {
      return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    base = `http://${req.headers.host ?? '127.0.0.1'}`;
    const raw = await readText(req);
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const call: FakeAppStoreCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      keyId: undefined,
      jwt: undefined,
      status: 0,
    };
    call.keyId = await authenticate(call, req.headers.authorization ?? '');
    let answer: Answer;
    if (!call.keyId) answer = { status: 401, body: appStoreError(401) };
    else {
      const failure = failures.take(call.method, call.path);
      if (failure && !failure.apply) answer = failureAnswer(failure);
      else {
        answer = api(call);
        if (failure) answer = failureAnswer(failure);
      }
    }
    call.status = answer.status;
    calls.push(call);
    sendAnswer(res, answer);
  };

  const rateHeader = () => ({
    'x-rate-limit': `user-hour-lim:${HOURLY};user-hour-rem:${Math.max(0, remaining)};`,
  });

  const failureAnswer = (failure: FakeAppStoreFailure): Answer => ({
    status: failure.status,
    headers: { ...rateHeader(), ...failure.headers },
    body: failure.body ?? appStoreError(failure.status),
  });

  const api = (call: FakeAppStoreCall): Answer => {
    if (remaining < 1) return failureAnswer({ status: 429 });
    remaining -= 1;
    const answer = route(call);
    return { ...answer, headers: { ...rateHeader(), ...answer.headers } };
  };

  const route = (call: FakeAppStoreCall): Answer => {
    const list = /^\/v1\/apps\/([^/]+)\/customerReviews$/.exec(call.path);
    if (call.method === 'GET' && list?.[1]) return listReviews(list[1], call.query);
    const read = /^\/v1\/customerReviews\/([^/]+)\/response$/.exec(call.path);
    if (call.method === 'GET' && read?.[1]) {
      const response = responses.get(read[1]);
      if (!response)
        return {
          status: 404,
          body: appStoreError(404, {
            detail: `There is no resource of type 'customerReviewResponses' with id for review '${read[1]}'`,
          }),
        };
      return {
        status: 200,
        body: { data: renderResponse(response), links: { self: `${base}${call.path}` } },
      };
    }
    if (call.method === 'POST' && call.path === '/v1/customerReviewResponses')
      return createResponse(call.body);
    const remove = /^\/v1\/customerReviewResponses\/([^/]+)$/.exec(call.path);
    if (call.method === 'DELETE' && remove?.[1]) {
      const entry = [...responses.values()].find((r) => r.id === remove[1]);
      if (!entry)
        return {
          status: 404,
          body: appStoreError(404, {
            detail: `There is no resource of type 'customerReviewResponses' with id '${remove[1]}'`,
          }),
        };
      responses.delete(entry.reviewId);
      deleted.push(entry.id);
      options.onChange?.();
      return { status: 204, body: undefined };
    }
    return { status: 404, body: appStoreError(404) };
  };

  const listReviews = (appId: string, query: Record<string, string>): Answer => {
    if (!options.appIds.includes(appId)) {
      return {
        status: 404,
        body: appStoreError(404, { detail: `There is no resource of type 'apps' with id '${appId}'` }),
      };
    }
    const limit = Math.min(Number(query.limit ?? 50) || 50, pageSize);
    const include = (query.include ?? '').split(',').includes('response');
    const sorted = reviews
      .filter((r) => r.appId === appId)
      .sort((a, b) =>
        query.sort === '-createdDate'
          ? b.createdDate.localeCompare(a.createdDate) || b.id.localeCompare(a.id)
          : a.createdDate.localeCompare(b.createdDate) || a.id.localeCompare(b.id),
      );
    const offset = query.cursor ? Number(Buffer.from(query.cursor, 'base64url').toString()) : 0;
    const page = sorted.slice(offset, offset + limit);
    const nextQuery = new URLSearchParams({
      ...query,
      cursor: Buffer.from(String(offset + limit)).toString('base64url'),
    });
    const included = include
      ? page.flatMap((r) =>
          responses.has(r.id) ? [renderResponse(responses.get(r.id) as FakeReviewResponse)] : [],
        )
      : [];
    return {
      status: 200,
      body: {
        data: page.map((r) => renderReview(r, include)),
        ...(include ? { included } : {}),
        links: {
          self: `${base}/v1/apps/${appId}/customerReviews?${new URLSearchParams(query)}`,
          ...(offset + limit < sorted.length
            ? { next: `${base}/v1/apps/${appId}/customerReviews?${nextQuery}` }
            : {}),
        },
        meta: { paging: { total: sorted.length, limit } },
      },
    };
  };

  const createResponse = (body: unknown): Answer => {
    const data = isRecord(body) && isRecord(body.data) ? body.data : undefined;
    const attributes = data && isRecord(data.attributes) ? data.attributes : {};
    const relationships = data && isRecord(data.relationships) ? data.relationships : {};
    const review =
      isRecord(relationships.review) && isRecord(relationships.review.data) ? relationships.review.data : {};
    if (
      data?.type !== 'customerReviewResponses' ||
      review.type !== 'customerReviews' ||
      typeof review.id !== 'string'
    ) {
      return {
        status: 422,
        body: appStoreError(422, {
          code: 'ENTITY_UNPROCESSABLE',
          title: 'The request entity is not processable',
          detail: 'The request body is not a customerReviewResponses create request.',
        }),
      };
    }
    const text = attributes.responseBody;
    if (typeof text !== 'string' || !text.trim()) {
      return {
        status: 409,
        body: appStoreError(409, {
          code: 'ENTITY_ERROR.ATTRIBUTE.REQUIRED',
          title: 'The provided entity is missing a required field',
          detail: "You must provide a value for the attribute 'responseBody' with this request",
        }),
      };
    }
    if ([...text].length > 5970) {
      return {
        status: 409,
        body: appStoreError(409, {
          code: 'ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG',
          title: 'An attribute value is too long.',
          detail: 'The response body may be at most 5970 characters long.',
        }),
      };
    }
    if (!reviews.some((r) => r.id === review.id)) {
      return {
        status: 404,
        body: appStoreError(404, {
          detail: `There is no resource of type 'customerReviews' with id '${review.id}'`,
        }),
      };
    }
    if (responses.has(review.id)) {
      return {
        status: 409,
        body: appStoreError(409, {
          detail: 'This review already has a response; delete it before writing a new one.',
        }),
      };
    }
    const response: FakeReviewResponse = {
      id: nextId(),
      reviewId: review.id,
      responseBody: text,
      lastModifiedDate: now().toISOString(),
      state: 'PENDING_PUBLISH',
    };
    responses.set(review.id, response);
    sent.push(response);
    options.onChange?.();
    return {
      status: 201,
      body: {
        data: renderResponse(response),
        links: { self: `${base}/v1/customerReviewResponses/${response.id}` },
      },
    };
  };

  const { server, url } = await listenOnLoopback(handle, (_err, res) => {
    if (!res.headersSent) sendAnswer(res, { status: 500, body: appStoreError(500) });
  });
  base = url;

  return {
    url,
    calls,
    callsTo: (method, prefix) => calls.filter((c) => c.method === method && c.path.startsWith(prefix)),
    reviews,
    responses,
    sent,
    deleted,
    addReview,
    addResponse,
    failNext: (prefix, failure) => failures.add(prefix, failure),
    setRateLimit: (n) => {
      remaining = n;
    },
    revokeKey: (keyId) => revoked.add(keyId),
    close: () => closeServer(server),
  };
}
