import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { cases, messages } from '../../db/schema.js';

/**
 * The conversation of a post carebot already holds (a customer's post, or a reply it sent), for
 * webhook deliveries that name only the post a new one answers. Unknown posts give undefined.
 */
export function xConversationLookup(db: Database) {
  return async (sourceKey: string, postId: string): Promise<string | undefined> => {
    const [row] = await db
      .select({ conversationId: cases.conversationId })
      .from(messages)
      .innerJoin(cases, eq(cases.id, messages.caseId))
      .where(and(eq(messages.sourceKey, sourceKey), eq(messages.externalId, postId)))
      .limit(1);
    return row?.conversationId;
  };
}
