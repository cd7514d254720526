import { z } from 'zod';
import type { Logger } from '../../logger.js';
import { GraphUnreachable, graphRequest, isSuccess } from '../facebook/client.js';
import type { FacebookPage } from '../facebook/config.js';
import { describeGraphError, graphError } from '../facebook/errors.js';
import { MENTION_LOOKUP_TIMEOUT } from '../facebook/limits.js';
import type { InstagramMentionValue, MentionDetails } from './normalize.js';

export interface GraphApi {
  apiUrl: string;
  apiVersion: string;
}

const mentionedComment = z.looseObject({
  mentioned_comment: z
    .looseObject({
      text: z.string().optional(),
      username: z.string().optional(),
      timestamp: z.string().optional(),
      media: z.looseObject({ permalink: z.string().optional() }).optional(),
    })
    .optional(),
});

const mentionedMedia = z.looseObject({
  mentioned_media: z
    .looseObject({
      caption: z.string().optional(),
      username: z.string().optional(),
      timestamp: z.string().optional(),
      permalink: z.string().optional(),
    })
    .optional(),
});

/**
 * The words of an @mention: the webhook names only the comment and media. One short Graph call
 * (`mentioned_comment` or `mentioned_media` of the account); when it fails the mention is stored
 * anyway, with what is known, so nothing waits on Instagram and nothing is lost.
 */
export async function fetchMentionDetails(
  page: FacebookPage & { instagramAccountId: string },
  graph: GraphApi,
  mention: InstagramMentionValue,
  logger: Logger,
): Promise<MentionDetails> {
  const fields = mention.comment_id
    ? `mentioned_comment.comment_id(${mention.comment_id}){text,username,timestamp,media{permalink}}`
    : `mentioned_media.media_id(${mention.media_id}){caption,username,timestamp,permalink}`;
  try {
    const res = await graphRequest(
      page,
      graph.apiUrl,
      graph.apiVersion,
      'GET',
      `/${page.instagramAccountId}`,
      {
        query: { fields },
        timeoutMs: MENTION_LOOKUP_TIMEOUT,
      },
    );
    if (!isSuccess(res)) {
      logger.warn(
        { page: page.name, problem: describeGraphError(page, graphError(res.body), res.status) },
        'could not read the words of an Instagram mention; stored without them',
      );
      return {};
    }
    if (mention.comment_id) {
      const c = mentionedComment.safeParse(res.body).data?.mentioned_comment;
      return {
        text: c?.text,
        username: c?.username,
        timestamp: c?.timestamp,
        permalink: c?.media?.permalink,
      };
    }
    const m = mentionedMedia.safeParse(res.body).data?.mentioned_media;
    return { text: m?.caption, username: m?.username, timestamp: m?.timestamp, permalink: m?.permalink };
  } catch (err) {
    if (!(err instanceof GraphUnreachable)) throw err;
    logger.warn({ page: page.name, problem: err.message }, 'Instagram mention stored without its words');
    return {};
  }
}
