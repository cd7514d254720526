import type { Logger } from '../../logger.js';
import type { WebhookWork } from './changes.js';
import type { FacebookPage } from './config.js';
import {
  commentThread,
  facebookSourceKey,
  feedChangeOf,
  feedChangeValue,
  feedItemFromChange,
  messagingEvent,
  normalizeFeedItem,
  normalizeMessengerEvent,
} from './normalize.js';
import type { ProfileLookup } from './profiles.js';

/** One `entry` of an `object: page` delivery. */
export interface PageEntry {
  changes?: Array<{ field: string; value?: unknown }> | undefined;
  messaging?: unknown[] | undefined;
}

export interface PageIngestContext {
  logger: Logger;
  receivedAt: Date;
  /** The conversation of a post or comment carebot already holds (see normalize.ts). */
  conversationOf?: ((sourceKey: string, externalId: string) => Promise<string | undefined>) | undefined;
  /** Whether carebot already holds this message (a redelivery needs no lookups). */
  isStored?: ((sourceKey: string, externalId: string) => Promise<boolean>) | undefined;
  /** A Messenger customer's name (the delivery names only their page-scoped id). */
  profileOf?: ProfileLookup | undefined;
}

/**
 * Turns a Page's feed changes and Messenger events into work, handed to `emit` one at a time in
 * the order they came (so a comment finds the post stored just before it): comments and visitor
 * posts become messages, edits and removals become changes, and the Page's own words never come
 * back as cases.
 */
export async function ingestPageEntry(
  page: FacebookPage,
  entry: PageEntry,
  ctx: PageIngestContext,
  emit: (work: WebhookWork) => Promise<void>,
): Promise<void> {
  const sourceKey = facebookSourceKey(page);
  for (const change of entry.changes ?? []) {
    if (change.field !== 'feed') {
      ctx.logger.debug({ field: change.field }, 'Page change of a field carebot does not read; ignored');
      continue;
    }
    const parsed = feedChangeValue.safeParse(change.value);
    if (!parsed.success) {
      ctx.logger.warn(
        { issues: parsed.error.issues.map((i) => i.path.join('.')) },
        'unreadable feed change skipped',
      );
      continue;
    }
    const value = parsed.data;
    const what = feedChangeOf(page, value);
    if (!what) continue;
    if (what.verb === 'remove') {
      await emit({ kind: 'change', change: { kind: 'removed', sourceKey, externalId: what.externalId } });
      continue;
    }
    if (what.ownContent) {
      ctx.logger.debug({ id: what.externalId, item: value.item }, "the Page's own words; skipped");
      continue;
    }
    const item = feedItemFromChange(value, what.externalId, ctx.receivedAt);
    if (what.verb === 'edited') {
      await emit({
        kind: 'change',
        change: { kind: 'edited', sourceKey, externalId: what.externalId, text: item.text },
      });
      continue;
    }
    let conversationId = what.externalId;
    if (what.kind === 'comment') {
      const parent = value.parent_id ?? value.post_id;
      conversationId =
        (parent && (await ctx.conversationOf?.(sourceKey, parent))) ||
        commentThread(what.externalId, value.post_id, value.parent_id);
    }
    await emit({ kind: 'message', message: normalizeFeedItem(page, item, conversationId) });
  }

  for (const raw of entry.messaging ?? []) {
    const parsed = messagingEvent.safeParse(raw);
    if (!parsed.success) {
      ctx.logger.warn(
        { issues: parsed.error.issues.map((i) => i.path.join('.')) },
        'unreadable Messenger event skipped',
      );
      continue;
    }
    const event = parsed.data;
    if (event.message_edit && event.sender.id !== page.pageId) {
      await emit({
        kind: 'change',
        change: {
          kind: 'edited',
          sourceKey,
          externalId: event.message_edit.mid,
          text: event.message_edit.text,
        },
      });
      continue;
    }
    const message = normalizeMessengerEvent(page, event, ctx.receivedAt);
    if (!message) continue;
    // A redelivered message is already stored with its name: no second lookup.
    if (ctx.profileOf && !(await ctx.isStored?.(message.sourceKey, message.externalId))) {
      const profile = await ctx.profileOf(page, message.author.id);
      if (profile) message.author.name = profile.name;
    }
    await emit({ kind: 'message', message });
  }
}
