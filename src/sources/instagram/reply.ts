import { type Clock, systemClock } from '../../care/clock.js';
import { type GraphResponse, GraphUnreachable, graphCalls } from '../facebook/client.js';
import type { FacebookPage } from '../facebook/config.js';
import { earlierInstagramReply } from '../facebook/earlier.js';
import { INSTAGRAM_COMMENT_MAX_TEXT, MESSENGER_MAX_TEXT } from '../facebook/limits.js';
import { type GraphSend, graphSendOutcome } from '../facebook/reply-failure.js';
import { accountGone, refused, tooLong } from '../reply-outcomes.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import { instagramSourceKey } from './normalize.js';

export type InstagramSend =
  /** A reply in the comment's thread on the account's own media. */
  | { kind: 'reply'; commentId: string }
  /** A comment answering an @mention on someone else's media (or in its caption). */
  | { kind: 'mention'; mediaId: string; commentId: string | undefined }
  /** A private reply: one direct message to the author of a comment. */
  | { kind: 'private'; commentId: string };

/**
 * Replies on Instagram as the account of the case's Page: comments on the account's media get a
 * reply in their thread (`POST /{comment-id}/replies`; Instagram files a reply to a reply under
 * the top-level comment itself), @mentions are answered through `POST /{ig-user-id}/mentions`, and
 * a comment an agent moved to private gets a private reply (`POST /{page-id}/messages` with
 * `recipient.comment_id`).
 *
 * When an earlier attempt's outcome is unknown (a timeout, a 5xx), a thread reply is looked for
 * (`GET /{comment-id}/replies`) before it is sent again; a private reply needs no look, since
 * Graph refuses a second one. Answers to @mentions are not looked for: Graph does not list the
 * account's comments on other people's media.
 */
export function instagramReplyAdapter(
  pages: FacebookPage[],
  apiUrl: string,
  apiVersion: string,
  clock: Clock = systemClock,
  options: { timeoutMs?: number } = {},
): ReplyAdapter {
  return {
    label: () => 'Instagram',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const page = pages.find(
        (p) => p.instagramAccountId && instagramSourceKey(p.instagramAccountId) === request.sourceKey,
      );
      if (!page?.instagramAccountId) {
        return accountGone(`Instagram account with the id in ${request.sourceKey}`);
      }
      const target = instagramTarget(request);
      if ('reason' in target) return refused(target.reason);
      const max = target.kind === 'private' ? MESSENGER_MAX_TEXT : INSTAGRAM_COMMENT_MAX_TEXT;
      if (request.text.length > max) {
        return tooLong(
          target.kind === 'private' ? 'message' : 'comment',
          request.text.length,
          `and Instagram allows ${max}`,
        );
      }

      const { post, get } = graphCalls(page, apiUrl, apiVersion, options.timeoutMs);
      if (request.outcomeUnknown && target.kind === 'reply') {
        const earlier = await earlierInstagramReply(
          get,
          page.instagramAccountId,
          target.commentId,
          request.text,
        );
        if (earlier) return earlier;
      }
      let res: GraphResponse;
      try {
        if (target.kind === 'reply') {
          res = await post(`/${target.commentId}/replies`, { message: request.text });
        } else if (target.kind === 'mention') {
          res = await post(`/${page.instagramAccountId}/mentions`, {
            media_id: target.mediaId,
            ...(target.commentId ? { comment_id: target.commentId } : {}),
            message: request.text,
          });
        } else {
          res = await post(`/${page.pageId}/messages`, {
            recipient: { comment_id: target.commentId },
            message: { text: request.text },
          });
        }
      } catch (err) {
        if (err instanceof GraphUnreachable)
          return { ok: false, permanent: false, reason: err.message, outcomeUnknown: true };
        throw err;
      }
      return graphSendOutcome(page, sendOf(target), res, clock.now());
    },
  };
}

export function instagramTarget(request: ReplyRequest): InstagramSend | { reason: string } {
  if (request.conversationId.startsWith('mention:')) {
    const mediaId = request.conversationId.slice('mention:'.length);
    if (request.mode === 'private') {
      return {
        reason:
          "Instagram allows private replies only to comments on the account's own posts; answer this @mention publicly",
      };
    }
    const commentId = request.inReplyTo && request.inReplyTo !== mediaId ? request.inReplyTo : undefined;
    return { kind: 'mention', mediaId, commentId };
  }
  const commentId = request.inReplyTo ?? request.conversationId;
  if (!/^\d+$/.test(commentId)) {
    return { reason: `there is no Instagram comment to answer in this case (${commentId} is not one)` };
  }
  return request.mode === 'private' ? { kind: 'private', commentId } : { kind: 'reply', commentId };
}

const sendOf = (target: InstagramSend): GraphSend => ({
  platform: 'Instagram',
  kind: target.kind === 'private' ? 'private' : 'comment',
  permission: target.kind === 'private' ? 'instagram_manage_messages' : 'instagram_manage_comments',
});
