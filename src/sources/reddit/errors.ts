import { type Duration, milliseconds } from '../../care/clock.js';
import type { RedditAccount } from './config.js';

const APPS_PAGE = 'https://www.reddit.com/prefs/apps';

/** Where the account's credentials are set: the environment for the default account, else the file. */
function whereToUpdate(account: RedditAccount, env: string, key: string): string {
  return account.name === 'default'
    ? env
    : `${key} of the account "${account.name}" under sources.reddit.accounts in carebot.config.yaml`;
}

/** What a person does when Reddit refuses the username and password (`invalid_grant`). */
export function passwordHint(account: RedditAccount): string {
  return (
    `Check ${whereToUpdate(account, 'REDDIT_USERNAME and REDDIT_PASSWORD', 'username and password')}. ` +
    `A script app signs in only as a Reddit account that is one of its developers (the account that created it at ${APPS_PAGE}), ` +
    'and not while that account has two-factor authentication on; carebot picks the account up again once it can sign in.'
  );
}

/** What a person does when Reddit refuses the app's id and secret (HTTP 401 from the token endpoint). */
export function clientCredentialsHint(account: RedditAccount): string {
  return (
    `Check ${whereToUpdate(account, 'REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET', 'client_id and client_secret')}: ` +
    `at ${APPS_PAGE} the client id is the code under the app's name and the app must be of type "script"; ` +
    'carebot picks the account up again once it can sign in.'
  );
}

/** What a person does when Reddit refuses a token it has just issued: the account itself is barred. */
export function accountRefusedHint(account: RedditAccount): string {
  return (
    `Log in to Reddit as u/${account.username} and check that the account is not suspended and that the app at ` +
    `${APPS_PAGE} still exists; carebot picks the account up again once Reddit accepts it.`
  );
}

/** One entry of Reddit's `json.errors`: `[code, message, field]`. */
export interface RedditApiError {
  code: string;
  message: string;
  field: string | undefined;
}

/** Reads `{"json": {"errors": [["THREAD_LOCKED", "Comments are locked.", "parent"]]}}`. */
export function redditApiErrors(body: unknown): RedditApiError[] {
  const json = isRecord(body) && isRecord(body.json) ? body.json : undefined;
  if (!json || !Array.isArray(json.errors)) return [];
  return json.errors.flatMap((e) => {
    if (Array.isArray(e) && typeof e[0] === 'string') {
      return [
        {
          code: e[0],
          message: typeof e[1] === 'string' ? e[1] : e[0],
          field: typeof e[2] === 'string' ? e[2] : undefined,
        },
      ];
    }
    return [];
  });
}

const UNIT_MS: Record<string, number> = { millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000 };

/**
 * How long Reddit's RATELIMIT asks to wait: `json.ratelimit` (seconds) when given, else the words
 * "you are doing that too much. try again in 9 minutes."
 */
export function rateLimitWait(body: unknown, message: string): Duration | undefined {
  const json = isRecord(body) && isRecord(body.json) ? body.json : undefined;
  if (json && typeof json.ratelimit === 'number' && json.ratelimit >= 0) {
    return milliseconds(Math.ceil(json.ratelimit * 1000));
  }
  const match = /try again in (\d+(?:\.\d+)?) (millisecond|second|minute|hour)s?/i.exec(message);
  if (!match) return undefined;
  const [, amount, unit] = match;
  return milliseconds(Number(amount) * (UNIT_MS[(unit ?? '').toLowerCase()] ?? 0));
}

/** Reddit's refusal of a comment in words an agent can act on; undefined for codes it does not know. */
export function commentRefusal(error: RedditApiError, account: RedditAccount): string | undefined {
  switch (error.code) {
    case 'THREAD_LOCKED':
      return 'the Reddit thread is locked: only its moderators can comment in it now';
    case 'DELETED_COMMENT':
      return 'the Reddit comment being answered was deleted';
    case 'DELETED_LINK':
      return 'the Reddit post being answered was deleted';
    case 'TOO_OLD':
      return 'the Reddit post is archived (too old for new comments), so it cannot be answered';
    case 'TOO_LONG':
      return `the reply is too long for Reddit (${error.message})`;
    case 'NO_TEXT':
      return 'the reply is empty';
    case 'SUBREDDIT_NOTALLOWED':
      return `u/${account.username} may not comment in that subreddit (banned, or it takes approved users only)`;
    default:
      return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a person does when a configured subreddit cannot be read. */
export function subredditHint(account: RedditAccount, subreddit: string): string {
  const where =
    account.name === 'default'
      ? 'sources.reddit.accounts in carebot.config.yaml'
      : `the subreddits of the account "${account.name}" under sources.reddit.accounts in carebot.config.yaml`;
  return (
    `Check the name r/${subreddit} in ${where}; if the subreddit is private or restricted, ask its moderators ` +
    `to approve u/${account.username}, or remove it from the list. carebot tries again every few minutes.`
  );
}
