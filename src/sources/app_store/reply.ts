import { type Clock, systemClock } from '../../care/clock.js';
import { accountGone, platformError, refused, tooLong, tryAgain } from '../reply-outcomes.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import { AppStoreClient, type AppStoreProblem } from './client.js';
import type { AppStoreAccount } from './config.js';
import { errorWords, isRecord } from './errors.js';
import { APP_STORE_RESPONSE_MAX_LENGTH } from './limits.js';
import { appUrl, type ReviewResponse, reviewResponse, sourceKeyOf } from './normalize.js';

export const REPLACED_NOTE = 'Replaced the earlier response on the App Store.';

/**
 * Answers a review with the developer response (`POST /v1/customerReviewResponses`). A review has at
 * most one response, so a later reply replaces it: the earlier one is deleted first, and the thread
 * is told. Apple takes no idempotency key; before every send carebot reads the review's response,
 * so an attempt that reached Apple without carebot hearing of it is found (same text: sent) and
 * never deleted or posted twice.
 */
export function appStoreReplyAdapter(
  accounts: AppStoreAccount[],
  apiUrl: string,
  clock: Clock = systemClock,
): ReplyAdapter {
  const clients = new Map(accounts.map((a) => [sourceKeyOf(a), new AppStoreClient(a, apiUrl)]));

  return {
    label: () => 'App Store',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const client = clients.get(request.sourceKey);
      if (!client) return accountGone(`App Store app for ${request.sourceKey}`);
      if (request.mode === 'private') {
        return refused(
          'the App Store has no private messages: answer in public, as a response to the review',
        );
      }
      const length = [...request.text].length;
      if (length > APP_STORE_RESPONSE_MAX_LENGTH) {
        return tooLong(
          'reply',
          length,
          `and the App Store allows ${APP_STORE_RESPONSE_MAX_LENGTH} in a response`,
        );
      }
      const reviewId = request.conversationId;
      const url = appUrl(client.account.appId);

      const existing = await readResponse(client, reviewId);
      if (!existing.ok) return existing.outcome;
      let note: string | undefined;
      if (existing.response) {
        // Sent before (an attempt whose answer was lost, or the same words again): never deleted.
        if ((existing.response.attributes?.responseBody ?? '').trim() === request.text.trim()) {
          return { ok: true, externalId: existing.response.id, url };
        }
        const removed = await client.request(
          clock,
          'DELETE',
          `/v1/customerReviewResponses/${existing.response.id}`,
        );
        if (!removed.ok) return problemOutcome(client.account, removed.problem, clock.now());
        const { status, body } = removed.response;
        // 404: gone already (deleted in App Store Connect meanwhile).
        if (status >= 500) return platformError('App Store Connect', status);
        if (status !== 204 && status !== 200 && status !== 404) {
          return refused(
            `App Store Connect did not let carebot replace the earlier response: ${errorWords(body, status)}`,
          );
        }
        note = REPLACED_NOTE;
      }

      const result = await client.request(clock, 'POST', '/v1/customerReviewResponses', {
        data: {
          type: 'customerReviewResponses',
          attributes: { responseBody: request.text },
          relationships: { review: { data: { type: 'customerReviews', id: reviewId } } },
        },
      });
      if (!result.ok) {
        const outcome = problemOutcome(client.account, result.problem, clock.now());
        // A timeout or a reset connection may have created it: the next attempt reads first.
        return result.problem.kind === 'unavailable'
          ? ({ ...outcome, outcomeUnknown: true } as ReplyOutcome)
          : outcome;
      }
      const { status, body } = result.response;
      if (status === 201 || status === 200) {
        const data = isRecord(body) && isRecord(body.data) ? body.data : {};
        return {
          ok: true,
          externalId: typeof data.id === 'string' ? data.id : undefined,
          url,
          ...(note ? { note } : {}),
        };
      }
      if (status >= 500) {
        return tryAgain(`App Store Connect had an error (HTTP ${status}); carebot tries again`, {
          outcomeUnknown: true,
        });
      }
      if (status === 404) {
        return refused('App Store Connect has no such review any more: the customer may have deleted it');
      }
      // 409 / 422 and the rest: Apple's own words.
      return refused(`App Store Connect refused the response: ${errorWords(body, status)}`);
    },
  };

  /** The review's current response, if it has one. */
  async function readResponse(
    client: AppStoreClient,
    reviewId: string,
  ): Promise<{ ok: true; response: ReviewResponse | undefined } | { ok: false; outcome: ReplyOutcome }> {
    const result = await client.request(
      clock,
      'GET',
      `/v1/customerReviews/${encodeURIComponent(reviewId)}/response`,
    );
    if (!result.ok)
      return { ok: false, outcome: problemOutcome(client.account, result.problem, clock.now()) };
    const { status, body } = result.response;
    if (status === 404) {
      // No response (or no such review: the POST then says which).
      return { ok: true, response: undefined };
    }
    if (status >= 500) return { ok: false, outcome: platformError('App Store Connect', status) };
    if (status !== 200) {
      return {
        ok: false,
        outcome: refused(
          `App Store Connect refused to show the review's response: ${errorWords(body, status)}`,
        ),
      };
    }
    const data = isRecord(body) ? body.data : undefined;
    if (data === null || data === undefined) return { ok: true, response: undefined };
    const parsed = reviewResponse.safeParse(data);
    if (!parsed.success) {
      return {
        ok: false,
        outcome: tryAgain(
          'App Store Connect answered with a response carebot could not read; carebot tries again',
        ),
      };
    }
    return { ok: true, response: parsed.data };
  }
}

function problemOutcome(account: AppStoreAccount, problem: AppStoreProblem, now: Date): ReplyOutcome {
  switch (problem.kind) {
    case 'rate_limited':
      return tryAgain(
        `App Store Connect is rate limiting the API key of the app "${account.name}"; the reply goes out after the limit resets`,
        { retryAfterMs: Math.max(0, problem.retryAt.getTime() - now.getTime()) },
      );
    case 'auth_failed':
      return { ok: false, permanent: true, reason: `${problem.reason}. ${problem.hint}`, credentials: true };
    case 'unavailable':
      return tryAgain(`${problem.reason}; carebot tries again`);
  }
}
