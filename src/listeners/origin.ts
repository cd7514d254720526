import type { BlockAction, webApi } from '@slack/bolt';
import type { Permission } from '../care/permissions.js';
import { caseThread, incidentMessageAt } from '../care/threads.js';
import { actorOf, type ButtonArgs, type ListenerContext, permitted } from './context.js';

/**
 * Whether a click that names a case or an incident came from where that case or incident lives.
 * A button's value is only as good as the message it sits on: a case id is taken from the case's
 * own card or thread (or the App Home, which lists the person's cases), an incident id from the
 * incident's message or thread. Anything else is refused.
 */

export const WRONG_PLACE_TEXT =
  'That button does not belong to the message it was pressed on, so nothing was done. Use the buttons on the case card or the incident message itself.';

interface Where {
  home: boolean;
  channel: string | undefined;
  /** The message clicked, and the thread it is in (if any). */
  ts: string | undefined;
  threadTs: string | undefined;
  ephemeral: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function whereOf(body: BlockAction): Where {
  // Bolt types the container as any and the message's thread_ts not at all: read as strings.
  const container: Record<string, unknown> = body.container ?? {};
  const message: Record<string, unknown> = body.message ?? {};
  return {
    home: container.type === 'view' && body.view?.type === 'home',
    channel: body.channel?.id ?? str(container.channel_id),
    ts: str(message.ts) ?? str(container.message_ts),
    threadTs: str(message.thread_ts) ?? str(container.thread_ts),
    ephemeral: container.is_ephemeral === true,
  };
}

/** Message ts this click could carry a thread's id for: the message itself, or its thread. */
function matches(where: Where, channelId: string, parentTs: string | null | undefined): boolean {
  if (!parentTs || where.channel !== channelId) return false;
  if (where.ts === parentTs || where.threadTs === parentTs) return true;
  // A private (ephemeral) message only carebot can post, to this person, in this channel: Slack
  // does not always say which thread it sits in.
  return where.ephemeral && where.threadTs === undefined;
}

export async function caseClickInPlace(
  ctx: Pick<ListenerContext, 'db'>,
  body: BlockAction,
  caseId: number,
): Promise<boolean> {
  const where = whereOf(body);
  if (where.home) return true;
  const thread = await caseThread(ctx.db, caseId);
  return thread ? matches(where, thread.channelId, thread.threadTs) : false;
}

export async function incidentClickInPlace(
  ctx: Pick<ListenerContext, 'db'>,
  body: BlockAction,
  incidentId: number,
): Promise<boolean> {
  const where = whereOf(body);
  const notice = await incidentMessageAt(ctx.db, incidentId);
  return notice ? matches(where, notice.channelId, notice.ts) : false;
}

/** A private answer to whoever clicked: in the channel (and thread) of the click, or by DM from the App Home. */
export async function tellClicker(client: webApi.WebClient, body: BlockAction, text: string): Promise<void> {
  const where = whereOf(body);
  if (where.channel) {
    const threadTs = where.threadTs ?? (where.ephemeral ? undefined : where.ts);
    await client.chat.postEphemeral({
      channel: where.channel,
      user: body.user.id,
      text,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return;
  }
  await client.chat.postMessage({ channel: body.user.id, text });
}

/** A private answer to whoever pressed the button, where they pressed it (nothing outside a channel). */
export async function tellPresser({ body, client }: Pick<ButtonArgs, 'body' | 'client'>, text: string) {
  const channel = body.channel?.id;
  if (!channel) return;
  await client.chat.postEphemeral({
    channel,
    user: body.user.id,
    text,
    ...(body.message?.thread_ts ? { thread_ts: body.message.thread_ts } : {}),
  });
}

/**
 * The gate of every button that names a case or an incident: the click must come from where it
 * lives, and the policy must allow it. When not, the clicker is told why and this answers false.
 */
export async function clickAllowed(
  ctx: ListenerContext,
  args: { body: BlockAction; client: webApi.WebClient },
  target: { caseId: number } | { incidentId: number } | undefined,
  permission: Permission,
): Promise<boolean> {
  const tell = (text: string) => tellClicker(args.client, args.body, text);
  if (target) {
    const inPlace =
      'caseId' in target
        ? await caseClickInPlace(ctx, args.body, target.caseId)
        : await incidentClickInPlace(ctx, args.body, target.incidentId);
    if (!inPlace) {
      ctx.logger.warn(
        { userId: args.body.user.id, ...target, channel: args.body.channel?.id },
        'click refused: the id does not belong to the message clicked',
      );
      await tell(WRONG_PLACE_TEXT);
      return false;
    }
  }
  return permitted(ctx, actorOf(args.body), permission, tell);
}
