import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { type SavedReplyRow, savedReplies } from '../db/schema.js';
import type { Clock } from './clock.js';

/**
 * Saved replies: the team's approved answers to common problems, so the same problem gets the same
 * answer. Text may hold `{variables}` that are filled in when a reply is written from one.
 */
export function listSavedReplies(db: Database): Promise<SavedReplyRow[]> {
  return db
    .select()
    .from(savedReplies)
    .where(isNull(savedReplies.deletedAt))
    .orderBy(asc(sql`lower(${savedReplies.title})`));
}

export async function getSavedReply(db: Database, id: number): Promise<SavedReplyRow | undefined> {
  const [row] = await db
    .select()
    .from(savedReplies)
    .where(and(eq(savedReplies.id, id), isNull(savedReplies.deletedAt)));
  return row;
}

export type SaveResult =
  | { kind: 'saved'; reply: SavedReplyRow }
  | { kind: 'title_taken' }
  | { kind: 'not_found' };

const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code === '23505' || e.cause?.code === '23505';
};

/** Adds a saved reply, or changes one when `id` is given. Titles are unique, ignoring case. */
export async function saveSavedReply(
  db: Database,
  clock: Clock,
  input: { id?: number | undefined; title: string; text: string; userId: string },
): Promise<SaveResult> {
  const now = clock.now();
  try {
    if (input.id) {
      const [updated] = await db
        .update(savedReplies)
        .set({ title: input.title, text: input.text, updatedAt: now })
        .where(and(eq(savedReplies.id, input.id), isNull(savedReplies.deletedAt)))
        .returning();
      return updated ? { kind: 'saved', reply: updated } : { kind: 'not_found' };
    }
    const [created] = await db
      .insert(savedReplies)
      .values({
        title: input.title,
        text: input.text,
        createdBy: input.userId,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (!created) throw new Error('saved reply insert returned no row');
    return { kind: 'saved', reply: created };
  } catch (err) {
    if (isUniqueViolation(err)) return { kind: 'title_taken' };
    throw err;
  }
}

/** Removes a saved reply from the list; replies already sent from it keep their link. */
export async function deleteSavedReply(db: Database, clock: Clock, id: number): Promise<boolean> {
  const [row] = await db
    .update(savedReplies)
    .set({ deletedAt: clock.now() })
    .where(and(eq(savedReplies.id, id), isNull(savedReplies.deletedAt)))
    .returning({ id: savedReplies.id });
  return Boolean(row);
}

export interface TemplateValues {
  first_name: string;
  name: string;
  handle: string;
  agent_name: string;
  case_id: string;
}

export const TEMPLATE_VARIABLES: Array<keyof TemplateValues> = [
  'first_name',
  'name',
  'handle',
  'agent_name',
  'case_id',
];

const KNOWN_VARIABLES: ReadonlySet<string> = new Set(TEMPLATE_VARIABLES);

/**
 * Fills `{first_name}` and the other documented variables (TEMPLATE_VARIABLES), and nothing else:
 * `{constructor}` or `{__proto__}` stay as written, like any unknown one, for the agent to see.
 */
export function fillTemplate(text: string, values: TemplateValues): string {
  return text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    if (!KNOWN_VARIABLES.has(name) || !Object.hasOwn(values, name)) return whole;
    const value = values[name as keyof TemplateValues];
    return typeof value === 'string' ? value : whole;
  });
}

/** The variables of a case's customer, from the first message's author. */
export function customerValues(author: { authorName: string | null; authorHandle: string | null }) {
  const name = author.authorName?.trim() || author.authorHandle || 'there';
  return {
    first_name: name.split(/\s+/)[0] ?? name,
    name,
    handle: author.authorHandle ? `@${author.authorHandle}` : name,
  };
}
