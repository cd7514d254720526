import type { ReplyOutcome } from '../types.js';
import { type GraphResponse, isRecord, isSuccess } from './client.js';
import type { FacebookPage } from './config.js';
import {
  classifyGraphFailure,
  describeGraphError,
  graphError,
  permissionHint,
  tokenHint,
  tokenProblem,
} from './errors.js';
import { MESSENGER_WINDOW } from './limits.js';

/** What kind of answer failed, for saying so in the agent's words. */
export interface GraphSend {
  platform: 'Facebook' | 'Instagram';
  /** `comment`: a public comment or reply; `messenger`: a message in a conversation; `private`: a private reply to a comment. */
  kind: 'comment' | 'messenger' | 'private';
  /** The permission the Page token needs for it, named in the hint when Graph says it is missing. */
  permission: string;
}

/**
 * A refused or failed reply in plain words: what happened, and what the agent or an admin can do.
 * Throttling and Graph's own errors are transient; the rest will not pass by retrying as is.
 */
export function graphReplyFailure(
  page: FacebookPage,
  send: GraphSend,
  res: GraphResponse,
  now: Date,
): ReplyOutcome {
  const error = graphError(res.body);
  const problem = classifyGraphFailure(res, error, now);
  const detail = describeGraphError(page, error, res.status);
  const what = send.kind === 'comment' ? 'the comment' : 'the message';
  const permanent = (reason: string): ReplyOutcome => ({ ok: false, permanent: true, reason });
  switch (problem.kind) {
    case 'token':
      return {
        ok: false,
        permanent: true,
        reason: `${tokenProblem(page, error)}, so carebot cannot answer as the Page. ${tokenHint(page)}`,
        credentials: true,
      };
    case 'throttled': {
      const waitMs = Math.max(0, problem.retryAt.getTime() - now.getTime());
      return {
        ok: false,
        permanent: false,
        reason: `${send.platform} is limiting how often the Page "${page.name}" may call it; ${what} goes out when the limit lifts (in about ${Math.max(1, Math.round(waitMs / 60_000))} min)`,
        retryAfterMs: waitMs,
      };
    }
    case 'messaging_window':
      return permanent(
        send.kind === 'private'
          ? `${send.platform} allows a private reply to a comment only within 7 days of it, and this one is older: answer publicly, or ask the customer to send a message`
          : `${send.platform === 'Facebook' ? 'Messenger' : 'Instagram'} lets a business answer only within ${MESSENGER_WINDOW / 3_600_000} hours of the customer's last message, and that window has closed: ask the customer to write again (their next message opens it again), or answer publicly if they also commented`,
      );
    case 'recipient_unavailable':
      return permanent(
        `the customer can't be reached by message on ${send.platform} right now (they may have blocked the account or deactivated theirs); answer publicly if you can`,
      );
    case 'private_reply_used':
      // After an attempt whose answer was lost, this refusal is how Graph says that it went out.
      return {
        ok: false,
        permanent: true,
        reason: `${send.platform} allows one private reply to each comment, within 7 days of it, and this comment already had it or is too old: answer publicly, or ask the customer to send a message`,
        duplicate: true,
      };
    case 'permission':
      return permanent(
        `${send.platform} refused ${what} because the Page token lacks a permission (${detail}). ${permissionHint(page, send.permission)}`,
      );
    case 'not_found':
      return permanent(
        send.kind === 'messenger'
          ? `${send.platform} could not find the customer to message (${detail})`
          : `the comment or post being answered was deleted or is hidden (${detail})`,
      );
    case 'server':
      return {
        ok: false,
        permanent: false,
        reason: `${send.platform} had an error (${detail}); carebot tries again`,
      };
    case 'refused':
      return permanent(
        `${send.platform} refused ${what}: ${detail}${error.fbtraceId ? ` [fbtrace_id ${error.fbtraceId}]` : ''}`,
      );
  }
}

/** Graph's answer to a send: the new comment's or message's id, or the failure in plain words. */
export function graphSendOutcome(
  page: FacebookPage,
  send: GraphSend,
  res: GraphResponse,
  now: Date,
): ReplyOutcome {
  if (!isSuccess(res)) {
    const failure = graphReplyFailure(page, send, res, now);
    // A 5xx may come after Graph did the work.
    return !failure.ok && res.status >= 500 ? { ...failure, outcomeUnknown: true } : failure;
  }
  const body = isRecord(res.body) ? res.body : {};
  const id =
    typeof body.id === 'string' ? body.id : typeof body.message_id === 'string' ? body.message_id : undefined;
  return { ok: true, externalId: id };
}
