import { type Clock, systemClock } from '../../care/clock.js';
import { accountGone, platformError, refused, tooLong } from '../reply-outcomes.js';
import { type ReplyAdapter, type ReplyOutcome, type ReplyRequest, resetFromHeaders } from '../types.js';
import { isRecord, type XResponse, XUnreachable, xRequest } from './client.js';
import type { XAccount } from './config.js';
import { accessHint, credentialsHint, describeProblem, isAccessProblem, xProblem } from './errors.js';
import { X_DM_MAX_LENGTH, X_MAX_WEIGHTED_LENGTH, xLength } from './limits.js';
import { sourceKeyOf, tweetUrl } from './normalize.js';

/** When X names no reset time for a 429, try again after one rate-limit window. */
const RATE_LIMIT_FALLBACK_MS = 15 * 60_000;

type Send = { kind: 'post'; inReplyTo: string } | { kind: 'dm'; participantId: string };

/**
 * Replies on X as the account the case came in on: a public case answers under the customer's
 * latest post (`POST /2/tweets` with `reply.in_reply_to_tweet_id`), a direct-message case or one an
 * agent moved to private answers by DM. X has no idempotency key, so a resend after a lost answer
 * shows up as X's duplicate refusal rather than as a second post.
 */
export function xReplyAdapter(
  accounts: XAccount[],
  apiUrl: string,
  clock: Clock = systemClock,
): ReplyAdapter {
  return {
    label: () => 'X',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const account = accounts.find((a) => sourceKeyOf(a) === request.sourceKey);
      if (!account) {
        return accountGone(`X account with the id in ${request.sourceKey}`);
      }
      const target = targetOf(request);
      if ('reason' in target) return refused(target.reason);

      if (target.kind === 'post' && xLength(request.text) > X_MAX_WEIGHTED_LENGTH) {
        return tooLong(
          'reply',
          xLength(request.text),
          `as X counts them, and X allows ${X_MAX_WEIGHTED_LENGTH}`,
          'shorten it or move the case to a direct message',
        );
      }
      if (target.kind === 'dm' && request.text.length > X_DM_MAX_LENGTH) {
        return tooLong(
          'message',
          request.text.length,
          `and X allows ${X_DM_MAX_LENGTH} in a direct message`,
          null,
        );
      }

      let res: XResponse;
      try {
        res =
          target.kind === 'post'
            ? await xRequest(account, apiUrl, 'POST', '/2/tweets', {
                json: { text: request.text, reply: { in_reply_to_tweet_id: target.inReplyTo } },
              })
            : request.quickReplies?.length
              ? await xRequest(account, apiUrl, 'POST', '/1.1/direct_messages/events/new.json', {
                  json: quickReplyDm(target.participantId, request.text, request.quickReplies),
                })
              : await xRequest(
                  account,
                  apiUrl,
                  'POST',
                  `/2/dm_conversations/with/${target.participantId}/messages`,
                  { json: { text: request.text } },
                );
      } catch (err) {
        if (err instanceof XUnreachable) return { ok: false, permanent: false, reason: err.message };
        throw err;
      }
      if (res.status >= 200 && res.status < 300) {
        // v2 answers `data`; the v1.1 message_create endpoint (quick replies) answers `event`.
        const data =
          isRecord(res.body) && isRecord(res.body.data)
            ? res.body.data
            : isRecord(res.body) && isRecord(res.body.event)
              ? { dm_event_id: res.body.event.id }
              : {};
        const id =
          typeof data.id === 'string'
            ? data.id
            : typeof data.dm_event_id === 'string'
              ? data.dm_event_id
              : undefined;
        return {
          ok: true,
          externalId: id,
          url: target.kind === 'post' && id ? tweetUrl(account.name, id) : undefined,
        };
      }
      return replyFailure(account, target, res, clock.now());
    },
  };
}

/**
 * A direct message with quick-reply options. X documents quick replies on the message_create
 * endpoint (`POST /1.1/direct_messages/events/new.json`), not on the v2 one; a tapped option comes
 * back in the webhook's DM event as `quick_reply_response.metadata`.
 */
function quickReplyDm(
  recipientId: string,
  text: string,
  options: NonNullable<ReplyRequest['quickReplies']>,
): Record<string, unknown> {
  return {
    event: {
      type: 'message_create',
      message_create: {
        target: { recipient_id: recipientId },
        message_data: {
          text,
          quick_reply: {
            type: 'options',
            options: options.map((o) => ({ label: o.label, metadata: o.payload })),
          },
        },
      },
    },
  };
}

function targetOf(request: ReplyRequest): Send | { reason: string } {
  const isDm = request.conversationId.startsWith('dm:');
  if (request.mode === 'public' && !isDm) {
    // Without a known latest post, the conversation's root (its id) is still inside the conversation.
    const inReplyTo = request.inReplyTo ?? request.conversationId;
    if (!/^\d+$/.test(inReplyTo)) {
      return { reason: `there is no X post to answer in this case (${inReplyTo} is not a post id)` };
    }
    return { kind: 'post', inReplyTo };
  }
  const participantId = isDm ? request.conversationId.slice('dm:'.length) : request.customerId;
  if (!/^\d+$/.test(participantId)) {
    return { reason: `cannot send a direct message: ${participantId || 'the customer'} is not an X user id` };
  }
  return { kind: 'dm', participantId };
}

function replyFailure(account: XAccount, target: Send, res: XResponse, now: Date): ReplyOutcome {
  const problem = xProblem(res.body);
  const detail = describeProblem(problem, res.status);
  const what = target.kind === 'post' ? 'the reply' : 'the direct message';
  if (res.status === 429) {
    const at = dailyLimitReset(res.headers) ?? resetFromHeaders(res.headers, RATE_LIMIT_FALLBACK_MS, now);
    return {
      ok: false,
      permanent: false,
      reason: `X is rate limiting @${account.name}; ${what} goes out after the limit resets`,
      retryAfterMs: Math.max(0, at.getTime() - now.getTime()),
    };
  }
  if (res.status >= 500) {
    return platformError('X', res.status);
  }
  if (res.status === 401) {
    return {
      ok: false,
      permanent: true,
      reason: `X rejected carebot's credentials for @${account.name}. ${credentialsHint(account)}`,
      credentials: true,
    };
  }
  if (res.status === 403) {
    if (/duplicate/i.test(detail)) {
      return {
        ok: false,
        permanent: true,
        reason:
          'X refused a duplicate of an earlier post: if it did not go out before, change the wording and send it again',
        duplicate: true,
      };
    }
    if (isAccessProblem(problem)) {
      return {
        ok: false,
        permanent: true,
        reason: `X refused ${what} (${detail}). ${accessHint(account, problem)}`,
      };
    }
    return { ok: false, permanent: true, reason: refusal(account, target, detail) };
  }
  if (res.status === 404) {
    return {
      ok: false,
      permanent: true,
      reason:
        target.kind === 'post'
          ? `X could not find the post to answer; it may have been deleted (${detail})`
          : `X could not find the customer to message; the account may be gone (${detail})`,
    };
  }
  return { ok: false, permanent: true, reason: `X refused ${what} (HTTP ${res.status}): ${detail}` };
}

/** X's words for a refusal of this one reply, said the way an agent can act on. */
function refusal(account: XAccount, target: Send, detail: string): string {
  if (
    target.kind === 'post' &&
    /reply to this conversation is not allowed|not been mentioned/i.test(detail)
  ) {
    return `the customer limited who can reply to their post, so @${account.name} cannot answer it publicly; move the case to a direct message (X said: ${detail})`;
  }
  if (target.kind === 'post' && /deleted|not visible/i.test(detail)) {
    return `the post being answered was deleted or is not visible to @${account.name} (X said: ${detail})`;
  }
  if (target.kind === 'dm') {
    return `the customer does not accept direct messages from @${account.name}; they need to follow @${account.name} or open their messages to everyone, so ask them publicly (X said: ${detail})`;
  }
  return `X refused the reply: ${detail}`;
}

/** Posting also has a 24-hour cap per user and per app, with its own reset headers. */
function dailyLimitReset(headers: Headers): Date | undefined {
  for (const scope of ['user', 'app']) {
    if (headers.get(`x-${scope}-limit-24hour-remaining`) !== '0') continue;
    const reset = Number(headers.get(`x-${scope}-limit-24hour-reset`));
    if (Number.isFinite(reset) && reset > 0) return new Date(reset * 1000);
  }
  return undefined;
}
