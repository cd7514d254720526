import { type Clock, systemClock } from '../../care/clock.js';
import { accountGone, platformError, refused, tooLong } from '../reply-outcomes.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import { RedditClient, type RedditProblem, type RedditResponse, type RedditUrls } from './client.js';
import type { RedditAccount } from './config.js';
import { commentRefusal, isRecord, rateLimitWait, redditApiErrors } from './errors.js';
import { RATE_LIMIT_FALLBACK, REDDIT_COMMENT_MAX_LENGTH } from './limits.js';
import { redditListing, redditUrl, sourceKeyOf, thingsOf } from './normalize.js';

const THING = /^t[13]_[a-z0-9]+$/;

/**
 * Replies on Reddit as the account the case came in on: a comment under the customer's latest
 * comment, or under their post (`POST /api/comment`). Reddit has no idempotency key and posts a
 * resend as a second comment, so when an attempt ended without a clear answer (a timeout, a 5xx),
 * the next attempt of the same reply first looks for it among the account's newest comments.
 */
export function redditReplyAdapter(
  accounts: RedditAccount[],
  urls: RedditUrls,
  clock: Clock = systemClock,
): ReplyAdapter {
  const clients = new Map(accounts.map((a) => [sourceKeyOf(a).toLowerCase(), new RedditClient(a, urls)]));
  /** Replies whose last attempt may have gone out, by idempotency key. */
  const uncertain = new Set<string>();

  return {
    label: () => 'Reddit',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const client = clients.get(request.sourceKey.toLowerCase());
      if (!client) {
        return accountGone(`Reddit account for ${request.sourceKey}`);
      }
      const { account } = client;
      if (request.mode === 'private') {
        return refused(
          `carebot answers Reddit cases only in the thread, not by private message; answer in public, or write to u/${request.customerId} on Reddit yourself`,
        );
      }
      const thingId = request.inReplyTo ?? request.conversationId;
      if (!THING.test(thingId)) {
        return refused(`there is no Reddit post or comment to answer in this case (${thingId} is not one)`);
      }
      const length = [...request.text].length;
      if (length > REDDIT_COMMENT_MAX_LENGTH) {
        return tooLong('reply', length, `and Reddit allows ${REDDIT_COMMENT_MAX_LENGTH} in a comment`);
      }

      // Known here (this process saw the timeout) or from the database (another instance, a crash).
      if (uncertain.has(request.idempotencyKey) || request.outcomeUnknown) {
        const earlier = await findEarlier(client, thingId, request.text);
        if (earlier) {
          uncertain.delete(request.idempotencyKey);
          return earlier;
        }
      }
      const result = await client.request(clock, 'POST', '/api/comment', {
        form: { api_type: 'json', thing_id: thingId, text: request.text },
      });
      if (!result.ok) {
        const outcome = problemOutcome(account, result.problem, clock.now());
        if (result.problem.kind !== 'unavailable') return outcome;
        uncertain.add(request.idempotencyKey);
        return { ...outcome, outcomeUnknown: true } as ReplyOutcome;
      }
      const outcome = commentOutcome(account, result.response);
      if (!outcome.ok && !outcome.permanent && result.response.status >= 500) {
        uncertain.add(request.idempotencyKey);
        return { ...outcome, outcomeUnknown: true };
      }
      uncertain.delete(request.idempotencyKey);
      return outcome;
    },
  };

  /** The account's comment under `thingId` with this text, if an earlier attempt did post it. */
  async function findEarlier(
    client: RedditClient,
    thingId: string,
    text: string,
  ): Promise<ReplyOutcome | undefined> {
    const result = await client.request(clock, 'GET', `/user/${client.account.username}/comments`, {
      query: { sort: 'new', limit: 100, raw_json: 1 },
    });
    if (!result.ok || result.response.status !== 200) return undefined;
    const parsed = redditListing.safeParse(result.response.body);
    if (!parsed.success) return undefined;
    const match = thingsOf(parsed.data.data.children).things.find(
      (t) => t.kind === 't1' && t.data.parent_id === thingId && t.data.body.trim() === text.trim(),
    );
    if (!match) return undefined;
    return {
      ok: true,
      externalId: match.data.name,
      url: match.data.permalink ? redditUrl(match.data.permalink) : undefined,
    };
  }
}

function problemOutcome(account: RedditAccount, problem: RedditProblem, now: Date): ReplyOutcome {
  switch (problem.kind) {
    case 'rate_limited':
      return {
        ok: false,
        permanent: false,
        reason: `Reddit is rate limiting u/${account.username}; the reply goes out after the limit resets`,
        retryAfterMs: Math.max(0, problem.retryAt.getTime() - now.getTime()),
      };
    case 'auth_failed':
      return { ok: false, permanent: true, reason: `${problem.reason}. ${problem.hint}`, credentials: true };
    case 'unavailable':
      return { ok: false, permanent: false, reason: `${problem.reason}; carebot tries again` };
  }
}

/** Reddit's answer to `POST /api/comment`: the new comment, or `json.errors`, or an HTTP error. */
function commentOutcome(account: RedditAccount, res: RedditResponse): ReplyOutcome {
  if (res.status >= 500) {
    return platformError('Reddit', res.status);
  }
  if (res.status === 403) {
    return {
      ok: false,
      permanent: true,
      reason: `Reddit refused the comment (HTTP 403): u/${account.username} may be banned from the subreddit, or it is private or takes approved users only`,
    };
  }
  if (res.status === 404) {
    return {
      ok: false,
      permanent: true,
      reason: 'Reddit could not find the post or comment to answer; it may be gone',
    };
  }
  if (res.status < 200 || res.status >= 300) {
    return { ok: false, permanent: true, reason: `Reddit refused the comment (HTTP ${res.status})` };
  }
  const [error] = redditApiErrors(res.body);
  if (error) {
    if (error.code === 'RATELIMIT') {
      return {
        ok: false,
        permanent: false,
        reason: `Reddit is slowing down u/${account.username} ("${error.message}"); the reply goes out when it allows`,
        retryAfterMs: rateLimitWait(res.body, error.message) ?? RATE_LIMIT_FALLBACK,
      };
    }
    return {
      ok: false,
      permanent: true,
      reason: `${commentRefusal(error, account) ?? `Reddit refused the comment: ${error.message}`} (${error.code})`,
    };
  }
  const json = isRecord(res.body) && isRecord(res.body.json) ? res.body.json : {};
  const things = isRecord(json.data) && Array.isArray(json.data.things) ? json.data.things : [];
  const first = things[0];
  const data = isRecord(first) && isRecord(first.data) ? first.data : {};
  // Posted, even if Reddit's answer lacks the details: sending again would post it twice.
  return {
    ok: true,
    externalId: typeof data.name === 'string' ? data.name : undefined,
    url: typeof data.permalink === 'string' ? redditUrl(data.permalink) : undefined,
  };
}
