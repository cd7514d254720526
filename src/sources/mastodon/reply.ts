import { createHash } from 'node:crypto';
import { type Clock, systemClock } from '../../care/clock.js';
import { accountGone, platformError, refused, tooLong, tryAgain } from '../reply-outcomes.js';
import { collapseWhitespace } from '../rss/plain-text.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import { learnInstanceLimit, verifyCredentials } from './account.js';
import { errorOf, isRecord, MastodonClient, type MastodonProblem } from './client.js';
import type { MastodonAccount } from './config.js';
import { MASTODON_TIMEOUT, mastodonLength, maxCharactersOf } from './limits.js';
import { mastodonStatus, sourceKeyOf, statusOfConversation, statusText } from './normalize.js';

/**
 * Replies on Mastodon as the account the case came in on: a status answering the customer's latest
 * one (`POST /api/v1/statuses` with `in_reply_to_id`), starting with their `@acct` so it reaches
 * them, in the visibility they wrote in (a direct mention is answered directly). Mastodon keeps the
 * `Idempotency-Key` for an hour, so a resend after a lost answer returns the status already posted.
 */
export function mastodonReplyAdapter(accounts: MastodonAccount[], clock: Clock = systemClock): ReplyAdapter {
  const clients = new Map(accounts.map((a) => [sourceKeyOf(a), new MastodonClient(a, MASTODON_TIMEOUT)]));

  return {
    label: () => 'Mastodon',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const client = clients.get(request.sourceKey);
      if (!client) return accountGone(`Mastodon account for ${request.sourceKey}`);
      const target = request.inReplyTo ?? statusOfConversation(request.conversationId);
      if (!/^\d+$/.test(target)) {
        return refused(`there is no Mastodon status to answer in this case (${target} is not a status id)`);
      }

      // The status answered: whom to mention and in which visibility (and that it still exists).
      const looked = await client.request(clock, 'GET', `/api/v1/statuses/${target}`);
      if (!looked.ok) return problemOutcome(looked.problem, clock.now());
      const { status, body } = looked.response;
      if (status === 404) {
        return refused(
          'the Mastodon status being answered was deleted, or is no longer visible to the account',
        );
      }
      if (status >= 500) return platformError(client.host, status);
      const parsed = mastodonStatus.safeParse(body);
      if (status !== 200 || !parsed.success) {
        return tryAgain(
          `${client.host} answered with HTTP ${status} when carebot looked up the status to answer`,
        );
      }
      const customer = parsed.data;
      const visibility =
        request.mode === 'private' || request.conversationId.startsWith('dm:')
          ? 'direct'
          : customer.visibility;
      const text = withMention(request.text, customer.account.acct);

      const limit = maxCharactersOf(client.account.name) ?? (await learnInstanceLimit(client, clock));
      const length = mastodonLength(text);
      if (length > limit) {
        return tooLong(
          'reply',
          length,
          `as Mastodon counts them (with @${customer.account.acct}), and ${client.host} allows ${limit}`,
        );
      }

      // Mastodon forgets a key after an hour: a resend later than that looks for the status first.
      if (request.outcomeUnknown) {
        const earlier = await findEarlier(client, target, text);
        if (earlier) return earlier;
      }
      const sent = await client.request(clock, 'POST', '/api/v1/statuses', {
        json: { status: text, in_reply_to_id: target, visibility },
        headers: { 'idempotency-key': idempotencyKey(request.idempotencyKey, target, visibility, text) },
      });
      if (!sent.ok) {
        const outcome = problemOutcome(sent.problem, clock.now());
        // No answer: it may have been posted; the same key makes the next attempt safe.
        return sent.problem.kind === 'unavailable'
          ? ({ ...outcome, outcomeUnknown: true } as ReplyOutcome)
          : outcome;
      }
      const res = sent.response;
      if (res.status >= 200 && res.status < 300) {
        const posted = isRecord(res.body) ? res.body : {};
        return {
          ok: true,
          externalId: typeof posted.id === 'string' ? posted.id : undefined,
          url: typeof posted.url === 'string' ? posted.url : undefined,
        };
      }
      if (res.status >= 500)
        return { ...platformError(client.host, res.status), outcomeUnknown: true } as ReplyOutcome;
      const detail = errorOf(res.body) ?? `HTTP ${res.status}`;
      if (res.status === 422) return refused(`Mastodon refused the reply: ${detail}`);
      if (res.status === 404) return refused(`the Mastodon status being answered is gone (${detail})`);
      if (res.status === 403) {
        return refused(
          `${client.host} refused the reply (${detail}): the account may be limited or suspended, or the customer blocked it`,
        );
      }
      return refused(`${client.host} refused the reply (HTTP ${res.status}): ${detail}`);
    },
  };

  /** The account's own status answering `target` with this text, if an earlier attempt posted it. */
  async function findEarlier(
    client: MastodonClient,
    target: string,
    text: string,
  ): Promise<ReplyOutcome | undefined> {
    const me = await verifyCredentials(client, clock);
    if (!me.ok) return undefined;
    const result = await client.request(clock, 'GET', `/api/v1/accounts/${me.me.id}/statuses`, {
      query: [
        ['limit', '40'],
        ['exclude_reblogs', 'true'],
      ],
    });
    if (!result.ok || result.response.status !== 200 || !Array.isArray(result.response.body))
      return undefined;
    const wanted = collapseWhitespace(text);
    for (const item of result.response.body) {
      const parsed = mastodonStatus.safeParse(item);
      if (!parsed.success || parsed.data.in_reply_to_id !== target) continue;
      if (collapseWhitespace(statusText(parsed.data)) !== wanted) continue;
      return { ok: true, externalId: parsed.data.id, url: parsed.data.url ?? undefined };
    }
    return undefined;
  }
}

/**
 * carebot's key (`carebot-reply-<id>`) is stable across attempts, but the same id comes again from a
 * fresh database or another installation answering as the same account, and Mastodon would hand
 * back that earlier status for an hour instead of posting. What is sent is part of the key, so only
 * a true resend of this reply matches.
 */
export function idempotencyKey(key: string, inReplyTo: string, visibility: string, text: string): string {
  const digest = createHash('sha256').update(`${inReplyTo}\n${visibility}\n${text}`).digest('base64url');
  return `${key}-${digest.slice(0, 22)}`;
}

/** The text starting with `@acct`, unless the agent already began with it. */
export function withMention(text: string, acct: string): string {
  const mention = `@${acct}`;
  const startsWith =
    text.toLowerCase().startsWith(mention.toLowerCase()) && /^(\s|$)/.test(text.slice(mention.length));
  return startsWith ? text : `${mention} ${text}`;
}

function problemOutcome(problem: MastodonProblem, now: Date): ReplyOutcome {
  switch (problem.kind) {
    case 'rate_limited':
      return tryAgain('Mastodon is rate limiting the account; the reply goes out after the limit resets', {
        retryAfterMs: Math.max(0, problem.retryAt.getTime() - now.getTime()),
      });
    case 'auth_failed':
      return { ok: false, permanent: true, reason: `${problem.reason}. ${problem.hint}`, credentials: true };
    case 'unavailable':
      return tryAgain(`${problem.reason}; carebot tries again`);
  }
}
