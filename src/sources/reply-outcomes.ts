import type { ReplyOutcome } from './types.js';

/**
 * The outcomes every platform's reply adapter gives in the same words, so an agent reads one
 * sentence for one situation whatever the platform: refused for good, try again, the account is
 * gone from the config, the text is too long, the platform had an error.
 */

/** Retrying as is will not help; `reason` is shown to the agent. */
export const refused = (reason: string): ReplyOutcome => ({ ok: false, permanent: true, reason });

/** May pass: the delivery job tries again (after `retryAfterMs` when the platform named a time). */
export const tryAgain = (
  reason: string,
  more: { retryAfterMs?: number; outcomeUnknown?: boolean } = {},
): ReplyOutcome => ({ ok: false, permanent: false, reason, ...more });

/** The case's source account was removed from the config since the case came in. */
export const accountGone = (account: string): ReplyOutcome =>
  refused(`no ${account} is set up any more, so carebot cannot answer as it`);

/**
 * `what` ("reply", "comment", "message") is longer than the platform takes; `limit` goes on from
 * "the reply is 300 characters …", e.g. "and Reddit allows 10000 in a comment".
 */
export const tooLong = (
  what: string,
  length: number,
  limit: string,
  advice: string | null = 'shorten it',
): ReplyOutcome => refused(`the ${what} is ${length} characters ${limit}${advice ? `: ${advice}` : ''}`);

/** An HTTP 5xx: the platform's trouble, not the reply's. */
export const platformError = (platform: string, status: number): ReplyOutcome =>
  tryAgain(`${platform} had an error (HTTP ${status}); carebot tries again`);
