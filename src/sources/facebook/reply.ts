import { type Clock, systemClock } from '../../care/clock.js';
import { accountGone, refused, tooLong } from '../reply-outcomes.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import {
  type GraphGet,
  type GraphResponse,
  GraphUnreachable,
  graphCalls,
  isRecord,
  isSuccess,
} from './client.js';
import type { FacebookPage } from './config.js';
import { earlierComment, earlierMessage } from './earlier.js';
import { classifyGraphFailure, graphError } from './errors.js';
import { FACEBOOK_COMMENT_MAX_TEXT, MESSENGER_MAX_TEXT } from './limits.js';
import { facebookSourceKey } from './normalize.js';
import { type GraphSend, graphSendOutcome } from './reply-failure.js';

export type FacebookSend =
  /** A public comment under the customer's comment or post. */
  | { kind: 'comment'; objectId: string }
  /** A Messenger message to a customer who wrote to the Page. */
  | { kind: 'messenger'; psid: string }
  /** A private reply: one Messenger message to the author of a comment or visitor post. */
  | { kind: 'private'; recipient: { comment_id: string } | { post_id: string } };

/**
 * Replies on Facebook as the Page the case came in on. A comment case answers under the customer's
 * latest comment (`POST /{comment-id}/comments`); Facebook threads are two levels deep, so when
 * that comment is itself a reply and Graph refuses, the answer goes under its parent. A Messenger
 * case answers in Messenger (`POST /{page-id}/messages`, `messaging_type: RESPONSE`), and a
 * comment an agent moved to private gets Facebook's private reply (`recipient.comment_id`).
 *
 * Graph has no idempotency key. When an earlier attempt's outcome is unknown (a timeout, a reset
 * connection, a 5xx), the comment or Messenger message is looked for before it is sent again; a
 * private reply needs no look, since Graph refuses a second one to the same comment.
 */
export function facebookReplyAdapter(
  pages: FacebookPage[],
  apiUrl: string,
  apiVersion: string,
  clock: Clock = systemClock,
  options: { timeoutMs?: number } = {},
): ReplyAdapter {
  return {
    label: () => 'Facebook',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const page = pages.find((p) => facebookSourceKey(p) === request.sourceKey);
      if (!page) {
        return accountGone(`Facebook Page with the id in ${request.sourceKey}`);
      }
      const target = facebookTarget(page, request);
      if ('reason' in target) return refused(target.reason);
      const max = target.kind === 'comment' ? FACEBOOK_COMMENT_MAX_TEXT : MESSENGER_MAX_TEXT;
      if (request.text.length > max) {
        return tooLong(
          target.kind === 'comment' ? 'comment' : 'message',
          request.text.length,
          `and Facebook allows ${max}`,
        );
      }

      const { post, get } = graphCalls(page, apiUrl, apiVersion, options.timeoutMs);
      if (request.outcomeUnknown && target.kind !== 'private') {
        const earlier =
          target.kind === 'comment'
            ? await earlierComment(get, page.pageId, target.objectId, request.text)
            : await earlierMessage(get, page.pageId, target.psid, request.text);
        if (earlier) return earlier;
      }
      try {
        let res: GraphResponse;
        if (target.kind === 'comment') {
          res = await commentOnThread(post, get, target.objectId, request.text, clock.now());
        } else if (target.kind === 'messenger') {
          res = await post(`/${page.pageId}/messages`, {
            recipient: { id: target.psid },
            messaging_type: 'RESPONSE',
            message: {
              text: request.text,
              ...(request.quickReplies?.length
                ? {
                    quick_replies: request.quickReplies.map((q) => ({
                      content_type: 'text',
                      title: q.label,
                      payload: q.payload,
                    })),
                  }
                : {}),
            },
          });
        } else {
          res = await post(`/${page.pageId}/messages`, {
            recipient: target.recipient,
            message: { text: request.text },
          });
        }
        return graphSendOutcome(page, sendOf(target), res, clock.now());
      } catch (err) {
        if (err instanceof GraphUnreachable)
          return { ok: false, permanent: false, reason: err.message, outcomeUnknown: true };
        throw err;
      }
    },
  };
}

export function facebookTarget(page: FacebookPage, request: ReplyRequest): FacebookSend | { reason: string } {
  if (request.conversationId.startsWith('messenger:')) {
    const psid = request.conversationId.slice('messenger:'.length);
    if (!/^\d+$/.test(psid))
      return { reason: `cannot send a Messenger message: ${psid || 'the customer'} is not a Messenger id` };
    return { kind: 'messenger', psid };
  }
  // Without a known latest message, the thread's first one (the conversation id) is still in the thread.
  const objectId = request.inReplyTo ?? request.conversationId;
  if (!/^\d+_\d+$/.test(objectId) && !/^\d+$/.test(objectId)) {
    return { reason: `there is no Facebook comment or post to answer in this case (${objectId} is not one)` };
  }
  if (request.mode === 'private') {
    // Post ids start with the id of the Page they are on; comment ids with the id of their post.
    const recipient = objectId.startsWith(`${page.pageId}_`)
      ? { post_id: objectId }
      : { comment_id: objectId };
    return { kind: 'private', recipient };
  }
  return { kind: 'comment', objectId };
}

/**
 * `POST /{id}/comments`; when Graph refuses a comment there (code 100), it may be a reply, which
 * takes no replies of its own: the answer then goes under its parent (`GET /{id}?fields=parent`),
 * once. The answer to map is the last one that mattered: the refusal, or why the lookup failed.
 */
async function commentOnThread(
  post: (path: string, json: unknown) => Promise<GraphResponse>,
  get: GraphGet,
  objectId: string,
  text: string,
  now: Date,
): Promise<GraphResponse> {
  const comment = (id: string) => post(`/${id}/comments`, { message: text });
  const refused = await comment(objectId);
  if (isSuccess(refused) || graphError(refused.body).code !== 100) return refused;
  const lookup = await get(`/${objectId}`, { fields: 'parent' });
  if (!isSuccess(lookup)) {
    // A deleted comment, an expired token or throttling explain more than the first refusal did.
    const problem = classifyGraphFailure(lookup, graphError(lookup.body), now);
    return problem.kind === 'refused' || problem.kind === 'permission' ? refused : lookup;
  }
  const parent = isRecord(lookup.body) && isRecord(lookup.body.parent) ? lookup.body.parent.id : undefined;
  return typeof parent === 'string' && parent !== objectId ? comment(parent) : refused;
}

const sendOf = (target: FacebookSend): GraphSend => ({
  platform: 'Facebook',
  kind: target.kind,
  permission: target.kind === 'comment' ? 'pages_manage_engagement' : 'pages_messaging',
});
