import type { Logger } from '../../logger.js';
import type { WebhookWork } from '../facebook/changes.js';
import type { FacebookPage } from '../facebook/config.js';
import { graphTimeToDate } from '../facebook/normalize.js';
import { fetchMentionDetails, type GraphApi } from './mentions.js';
import {
  instagramCommentValue,
  instagramMentionValue,
  instagramSourceKey,
  isOwnInstagramComment,
  normalizeInstagramComment,
  normalizeInstagramMention,
} from './normalize.js';

/** One `entry` of an `object: instagram` delivery; `id` is the professional account's id. */
export interface InstagramEntry {
  time?: number | undefined;
  changes?: Array<{ field: string; value?: unknown }> | undefined;
}

export interface InstagramIngestContext {
  logger: Logger;
  receivedAt: Date;
  /** `sources.instagram.channel`; unset: the Page's channel. */
  channel: string | undefined;
  /** Where to read the words of @mentions; without it mentions are stored with what the webhook says. */
  graph: GraphApi | undefined;
  /** Whether carebot already holds this message (a redelivered mention needs no Graph lookup). */
  isStored?: ((sourceKey: string, externalId: string) => Promise<boolean>) | undefined;
}

/** Comments on the account's media and @mentions elsewhere become messages; its own comments do not. */
export async function ingestInstagramEntry(
  page: FacebookPage & { instagramAccountId: string },
  entry: InstagramEntry,
  ctx: InstagramIngestContext,
  emit: (work: WebhookWork) => Promise<void>,
): Promise<void> {
  // Comment payloads carry no time of their own; the entry's is when Instagram sent the change.
  const sentAt = graphTimeToDate(entry.time, ctx.receivedAt);
  for (const change of entry.changes ?? []) {
    if (change.field === 'comments') {
      const parsed = instagramCommentValue.safeParse(change.value);
      if (!parsed.success) {
        ctx.logger.warn(
          { issues: parsed.error.issues.map((i) => i.path.join('.')) },
          'unreadable Instagram comment skipped',
        );
        continue;
      }
      if (isOwnInstagramComment(page, parsed.data)) {
        ctx.logger.debug({ id: parsed.data.id }, "the Instagram account's own comment; skipped");
        continue;
      }
      await emit({
        kind: 'message',
        message: normalizeInstagramComment(page, parsed.data, { channel: ctx.channel, sentAt }),
      });
    } else if (change.field === 'mentions') {
      const parsed = instagramMentionValue.safeParse(change.value);
      if (!parsed.success) {
        ctx.logger.warn(
          { issues: parsed.error.issues.map((i) => i.path.join('.')) },
          'unreadable Instagram mention skipped',
        );
        continue;
      }
      const mention = parsed.data;
      if (
        await ctx.isStored?.(
          instagramSourceKey(page.instagramAccountId),
          mention.comment_id ?? mention.media_id,
        )
      ) {
        ctx.logger.debug(
          { id: mention.comment_id ?? mention.media_id },
          'Instagram mention already stored; redelivery skipped',
        );
        continue;
      }
      const details = ctx.graph ? await fetchMentionDetails(page, ctx.graph, mention, ctx.logger) : {};
      await emit({
        kind: 'message',
        message: normalizeInstagramMention(page, parsed.data, details, {
          channel: ctx.channel,
          receivedAt: sentAt,
        }),
      });
    } else {
      ctx.logger.debug({ field: change.field }, 'Instagram change of a field carebot does not read; ignored');
    }
  }
}
