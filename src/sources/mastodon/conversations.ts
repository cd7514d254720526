import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { cases, messages } from '../../db/schema.js';

/**
 * The conversation of a status carebot already holds on this source (a customer's mention, or a
 * reply carebot sent), so a mention answering it joins that case. Unknown statuses give undefined.
 */
export function mastodonConversationLookup(db: Database) {
  return async (sourceKey: string, statusId: string): Promise<string | undefined> => {
    const [row] = await db
      .select({ conversationId: cases.conversationId })
      .from(messages)
      .innerJoin(cases, eq(cases.id, messages.caseId))
      .where(and(eq(messages.sourceKey, sourceKey), eq(messages.externalId, statusId)))
      .limit(1);
    return row?.conversationId;
  };
}

export type ConversationLookup = ReturnType<typeof mastodonConversationLookup>;
