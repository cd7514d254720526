import { z } from 'zod';
import type { InboundMessage } from '../../care/inbound.js';
import { htmlToText } from '../rss/plain-text.js';
import type { MastodonAccount } from './config.js';

/*
 * Mastodon's entities → carebot's inbound message. A status is known by its id, unique on the
 * instance that carebot reads it from, which is the message's external id. Statuses carry HTML.
 */

const id = z.string().regex(/^\d+$/, 'expected a numeric id');

export const mastodonAccount = z.looseObject({
  id,
  username: z.string(),
  /** `user` on the same instance, `user@domain` for a remote account. */
  acct: z.string(),
  display_name: z.string().optional(),
  url: z.string().nullish(),
  followers_count: z.number().optional(),
  bot: z.boolean().optional(),
});

export const mastodonMention = z.looseObject({
  id: z.string(),
  username: z.string(),
  url: z.string(),
  acct: z.string(),
});

export const mastodonStatus = z.looseObject({
  id,
  created_at: z.string(),
  in_reply_to_id: id.nullish(),
  in_reply_to_account_id: z.string().nullish(),
  visibility: z.enum(['public', 'unlisted', 'private', 'direct']).catch('public'),
  spoiler_text: z.string().optional(),
  content: z.string(),
  url: z.string().nullish(),
  uri: z.string().optional(),
  language: z.string().nullish(),
  account: mastodonAccount,
  mentions: z.array(mastodonMention).optional(),
  edited_at: z.string().nullish(),
  media_attachments: z.array(z.looseObject({ type: z.string().optional() })).optional(),
});

export const mastodonNotification = z.looseObject({
  id,
  type: z.string(),
  created_at: z.string(),
  account: mastodonAccount.optional(),
  status: z.unknown().optional(),
});

export type MastodonAccountEntity = z.output<typeof mastodonAccount>;
export type MastodonStatus = z.output<typeof mastodonStatus>;
export type MastodonNotification = z.output<typeof mastodonNotification>;

export const sourceKeyOf = (account: Pick<MastodonAccount, 'name'>) => `mastodon:${account.name}`;

/** Whether a conversation id is a direct (private mention) conversation. */
export const isDirectConversation = (conversationId: string) => conversationId.startsWith('dm:');

/** The status a conversation id names: its root, without the `dm:` of a direct conversation. */
export const statusOfConversation = (conversationId: string) =>
  isDirectConversation(conversationId) ? conversationId.slice('dm:'.length) : conversationId;

/**
 * A conversation is named after the status it hangs from: the status a mention answers (its
 * `in_reply_to_id`), or the mention itself when it starts a thread. A mention answering a status
 * carebot already holds (the customer's earlier mention, or carebot's own reply) joins that
 * status's conversation instead, which `known` tells. Direct statuses get `dm:` in front.
 */
export function conversationOf(status: MastodonStatus, known: string | undefined): string {
  if (known) return known;
  const root = status.in_reply_to_id ?? status.id;
  return status.visibility === 'direct' ? `dm:${root}` : root;
}

/** A status as plain text: mentions as `@acct` (with the domain of a remote account), tags as `#tag`. */
export function statusText(status: Pick<MastodonStatus, 'content' | 'mentions'>): string {
  return htmlToText(mentionsAsAcct(status.content, status.mentions ?? []));
}

const ANCHOR = /<a\s[^>]*>/gi;
const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/i;

/**
 * Mastodon renders a mention as `<a href="https://domain/@user" class="u-url mention">@<span>user</span></a>`,
 * without the domain; the status's `mentions` name the account, so the link becomes `@user@domain`.
 * Scanned with indexOf, not a lazy regex, as statuses come from strangers.
 */
function mentionsAsAcct(html: string, mentions: ReadonlyArray<{ url: string; acct: string }>): string {
  if (mentions.length === 0) return html;
  const byUrl = new Map(mentions.map((m) => [m.url, m.acct]));
  let out = '';
  let from = 0;
  ANCHOR.lastIndex = 0;
  for (let match = ANCHOR.exec(html); match; match = ANCHOR.exec(html)) {
    const href = HREF.exec(match[0]);
    const acct = byUrl.get(decodeAmp(href?.[1] ?? href?.[2] ?? ''));
    if (!acct) continue;
    const close = html.toLowerCase().indexOf('</a>', ANCHOR.lastIndex);
    if (close === -1) break;
    out += `${html.slice(from, match.index)}@${escapeHtml(acct)}`;
    from = close + '</a>'.length;
    ANCHOR.lastIndex = from;
  }
  return out + html.slice(from);
}

const decodeAmp = (s: string) => s.replace(/&amp;/g, '&');
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The profile link of an account: its `url`, else built from the handle. */
function profileUrl(account: MastodonAccountEntity, instanceUrl: string): string | undefined {
  if (account.url) return account.url;
  const [user, domain] = account.acct.split('@');
  return domain ? `https://${domain}/@${user}` : `${instanceUrl}/@${user}`;
}

export function normalizeStatus(
  account: MastodonAccount,
  status: MastodonStatus,
  conversationId: string,
): InboundMessage {
  const author = status.account;
  const attachments = status.media_attachments?.length ?? 0;
  const facts = [
    ...(status.spoiler_text?.trim() ? [`CW: ${status.spoiler_text.trim()}`] : []),
    ...(status.visibility === 'private' ? ['followers-only post'] : []),
    ...(status.visibility === 'unlisted' ? ['unlisted post'] : []),
    ...(status.edited_at ? ['edited'] : []),
    ...(attachments > 0 ? [`${attachments} attachment${attachments === 1 ? '' : 's'}`] : []),
  ];
  const text = statusText(status);
  return {
    sourceKey: sourceKeyOf(account),
    platform: 'mastodon',
    externalId: status.id,
    conversationId,
    author: {
      id: author.id,
      name: author.display_name?.trim() || author.username,
      // `user` on the account's own instance, `user@domain` from elsewhere, as Mastodon shows it.
      handle: author.acct,
      url: profileUrl(author, account.url),
      followers: author.followers_count,
    },
    // A status may be only a picture: the card still says there is something to look at.
    text: text || (attachments > 0 ? '(no text, only attachments)' : '(no text)'),
    url: status.url ?? status.uri,
    sentAt: new Date(status.created_at),
    channelId: account.channel,
    ...(facts.length > 0 ? { facts } : {}),
  };
}
