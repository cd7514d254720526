import type { ReplyOutcome } from '../types.js';
import { type GraphGet, type GraphQuery, GraphUnreachable, isRecord, isSuccess } from './client.js';

/** One Graph read as the Page (path after the version). */

/**
 * Finding out whether an earlier attempt went through. Graph has no idempotency key: a request
 * whose answer was lost (a timeout, a reset connection, a 5xx) may have posted the comment or sent
 * the message all the same. Before sending again, carebot reads the place the reply would be and
 * looks for the account's own item with the same text. A failed read finds nothing, and the reply
 * is sent: a rare second copy beats a reply that never leaves.
 */

/** How many of the newest items under the parent are looked through. */
const LOOK_BACK = 100;

const sameText = (a: unknown, b: string) => typeof a === 'string' && a.trim() === b.trim();

async function read(get: GraphGet, path: string, query: GraphQuery): Promise<unknown[] | undefined> {
  try {
    const res = await get(path, query);
    if (!isSuccess(res) || !isRecord(res.body) || !Array.isArray(res.body.data)) return undefined;
    return res.body.data;
  } catch (err) {
    if (err instanceof GraphUnreachable) return undefined;
    throw err;
  }
}

function found(items: unknown[] | undefined, match: (item: Record<string, unknown>) => boolean) {
  const item = items?.find((i): i is Record<string, unknown> => isRecord(i) && match(i));
  if (!item || typeof item.id !== 'string') return undefined;
  const url = typeof item.permalink_url === 'string' ? item.permalink_url : undefined;
  return { ok: true, externalId: item.id, ...(url ? { url } : {}) } satisfies ReplyOutcome;
}

const fromId = (item: Record<string, unknown>) => (isRecord(item.from) ? item.from.id : undefined);

/**
 * The Page's comment with this text under `objectId` (`GET /{id}/comments`), or under its parent
 * comment, where an answer to a reply goes (Facebook threads are two levels deep).
 */
export async function earlierComment(
  get: GraphGet,
  pageId: string,
  objectId: string,
  text: string,
): Promise<ReplyOutcome | undefined> {
  const under = async (id: string) =>
    found(
      await read(get, `/${id}/comments`, {
        fields: 'id,message,from,created_time,permalink_url',
        filter: 'stream',
        order: 'reverse_chronological',
        limit: LOOK_BACK,
      }),
      (c) => fromId(c) === pageId && sameText(c.message, text),
    );
  const direct = await under(objectId);
  if (direct) return direct;
  try {
    const res = await get(`/${objectId}`, { fields: 'parent' });
    const parent = isRecord(res.body) && isRecord(res.body.parent) ? res.body.parent.id : undefined;
    return isSuccess(res) && typeof parent === 'string' && parent !== objectId ? under(parent) : undefined;
  } catch (err) {
    if (err instanceof GraphUnreachable) return undefined;
    throw err;
  }
}

/**
 * The Page's Messenger message with this text to `psid`, among the newest of their conversation
 * (`GET /{page-id}/conversations?platform=messenger&user_id={psid}` with the messages expanded).
 */
export async function earlierMessage(
  get: GraphGet,
  pageId: string,
  psid: string,
  text: string,
): Promise<ReplyOutcome | undefined> {
  const conversations = await read(get, `/${pageId}/conversations`, {
    platform: 'messenger',
    user_id: psid,
    fields: `messages.limit(${LOOK_BACK}){id,message,from,created_time}`,
  });
  for (const conversation of conversations ?? []) {
    const messages =
      isRecord(conversation) && isRecord(conversation.messages) && Array.isArray(conversation.messages.data)
        ? conversation.messages.data
        : undefined;
    const match = found(messages, (m) => fromId(m) === pageId && sameText(m.message, text));
    if (match) return match;
  }
  return undefined;
}

/**
 * The account's reply with this text in the thread of an Instagram comment
 * (`GET /{ig-comment-id}/replies`); a reply to a reply is filed under the top-level comment, so
 * that one is read too when `commentId` is itself a reply.
 */
export async function earlierInstagramReply(
  get: GraphGet,
  accountId: string,
  commentId: string,
  text: string,
): Promise<ReplyOutcome | undefined> {
  const under = async (id: string) =>
    found(
      await read(get, `/${id}/replies`, { fields: 'id,text,from,username,timestamp' }),
      (c) => fromId(c) === accountId && sameText(c.text, text),
    );
  const direct = await under(commentId);
  if (direct) return direct;
  try {
    const res = await get(`/${commentId}`, { fields: 'parent_id' });
    const parent = isRecord(res.body) ? res.body.parent_id : undefined;
    return isSuccess(res) && typeof parent === 'string' && parent !== commentId ? under(parent) : undefined;
  } catch (err) {
    if (err instanceof GraphUnreachable) return undefined;
    throw err;
  }
}
