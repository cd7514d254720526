import { type Clock, systemClock } from '../../care/clock.js';
import { accountGone, platformError, refused, tooLong, tryAgain } from '../reply-outcomes.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import { PlayClient, type PlayProblem, type PlayResponse } from './client.js';
import type { GooglePlayAccount } from './config.js';
import { googleError } from './errors.js';
import { PLAY_REPLY_MAX_LENGTH } from './limits.js';
import { developerReplyOf, playReview, reviewUrl, sourceKeyOf } from './normalize.js';

export const REPLACED_NOTE = 'Replaced the earlier reply on Google Play.';

/**
 * Answers a review with the developer reply (`POST …/reviews/{reviewId}:reply`). Play keeps one
 * reply per review: sending again replaces it, so the same text twice leaves the same state and a
 * resend is harmless. Before sending, carebot reads the review: to say in the thread that an
 * earlier reply was replaced, and, when an earlier attempt may have gone through, to see that it
 * did and not send again.
 */
export function googlePlayReplyAdapter(
  accounts: GooglePlayAccount[],
  apiUrl: string,
  clock: Clock = systemClock,
): ReplyAdapter {
  const clients = new Map(accounts.map((a) => [sourceKeyOf(a), new PlayClient(a, apiUrl)]));
  /** Replies whose last attempt may have gone out, by idempotency key. */
  const uncertain = new Set<string>();

  return {
    label: () => 'Google Play',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const client = clients.get(request.sourceKey);
      if (!client) return accountGone(`Google Play app for ${request.sourceKey}`);
      const { account } = client;
      if (request.mode === 'private') {
        return refused(
          'Google Play has no private messages: a review is answered with a public developer reply',
        );
      }
      const length = [...request.text].length;
      if (length > PLAY_REPLY_MAX_LENGTH) {
        return tooLong(
          'reply',
          length,
          `and Google Play allows ${PLAY_REPLY_MAX_LENGTH} in a developer reply`,
        );
      }
      const reviewId = request.conversationId;
      const path = `/reviews/${encodeURIComponent(reviewId)}`;
      const url = reviewUrl(account.packageName, reviewId);

      // The review as it stands: an earlier reply to replace, or this very reply from a lost attempt.
      const current = await client.request(clock, 'GET', path);
      if (!current.ok && current.problem.kind !== 'unavailable')
        return problemOutcome(current.problem, clock);
      const earlier = current.ok ? earlierReply(current.response) : undefined;
      const mayHaveGone = uncertain.has(request.idempotencyKey) || request.outcomeUnknown;
      if (mayHaveGone && earlier !== undefined && earlier.trim() === request.text.trim()) {
        uncertain.delete(request.idempotencyKey);
        return { ok: true, externalId: reviewId, url };
      }

      const result = await client.request(clock, 'POST', `${path}:reply`, {
        json: { replyText: request.text },
      });
      if (!result.ok) {
        const outcome = problemOutcome(result.problem, clock);
        if (result.problem.kind !== 'unavailable') return outcome;
        uncertain.add(request.idempotencyKey);
        return { ...outcome, outcomeUnknown: true } as ReplyOutcome;
      }
      const { status, body } = result.response;
      if (status >= 500) {
        uncertain.add(request.idempotencyKey);
        return { ...platformError('Google Play', status), outcomeUnknown: true } as ReplyOutcome;
      }
      uncertain.delete(request.idempotencyKey);
      if (status < 200 || status >= 300) return refusal(status, body);
      // An earlier reply by someone else (or an earlier answer of this case) is gone now.
      const replaced = earlier !== undefined && earlier.trim() !== request.text.trim();
      return { ok: true, externalId: reviewId, url, ...(replaced ? { note: REPLACED_NOTE } : {}) };
    },
  };
}

/** The developer reply the review carries, if any (undefined when the review could not be read). */
function earlierReply(res: PlayResponse): string | undefined {
  if (res.status !== 200) return undefined;
  const parsed = playReview.safeParse(res.body);
  return parsed.success ? developerReplyOf(parsed.data)?.text : undefined;
}

function problemOutcome(problem: PlayProblem, clock: Clock): ReplyOutcome {
  switch (problem.kind) {
    case 'rate_limited':
      return tryAgain('Google Play says to wait (its reply quota); the reply goes out once it allows', {
        retryAfterMs: Math.max(0, problem.retryAt.getTime() - clock.now().getTime()),
      });
    case 'auth_failed':
      return { ok: false, permanent: true, reason: `${problem.reason}. ${problem.hint}`, credentials: true };
    case 'unavailable':
      return tryAgain(`${problem.reason}; carebot tries again`);
  }
}

/** Google's 4xx answer to a reply, in words an agent can act on. */
function refusal(status: number, body: unknown): ReplyOutcome {
  const { message } = googleError(body);
  if (status === 400 && /too long|length|exceed/i.test(message)) {
    return refused(`Google Play refused the reply as too long (${message}): shorten it`);
  }
  if (status === 404) {
    return refused(
      'Google Play could not find the review: it may have been deleted, or it is older than the API reaches (a week since its last change); answer it in Play Console',
    );
  }
  return refused(`Google Play refused the reply (HTTP ${status}${message ? `: ${message}` : ''})`);
}
