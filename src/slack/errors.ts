import { webApi } from '@slack/bolt';

const { ErrorCode } = webApi;

/** What to do about a failed Slack call. */
export type SlackFailure =
  /** Slack asked us to slow down: wait at least `retryAfterMs` before talking to that channel again. */
  | { kind: 'rate_limited'; retryAfterMs: number; reason: string }
  /** Slack or the network had a bad moment: retry with backoff. */
  | { kind: 'transient'; reason: string }
  /** Retrying will not help until a person changes something (token, scopes, channel membership). */
  | { kind: 'needs_person'; reason: string; hint: string }
  /** Slack refused this one request (e.g. invalid blocks); retry slowly, it may be data-dependent. */
  | { kind: 'rejected'; reason: string };

const PERSON_HINTS: Record<string, string> = {
  invalid_auth: 'SLACK_BOT_TOKEN is not valid: copy the Bot User OAuth Token again and restart carebot',
  not_authed: 'SLACK_BOT_TOKEN is missing from the request: check the environment',
  token_revoked: 'the bot token was revoked: reinstall the Slack app and update SLACK_BOT_TOKEN',
  token_expired: 'the bot token expired: reinstall the Slack app and update SLACK_BOT_TOKEN',
  account_inactive: 'the bot user or workspace is deactivated: reinstall the Slack app',
  missing_scope: 'the Slack app lacks a permission: reinstall it from manifest.yml',
  channel_not_found:
    'the care channel does not exist or the bot cannot see it: check CARE_CHANNEL_ID and invite the bot',
  not_in_channel: 'the bot is not in the care channel: /invite @carebot there',
  is_archived: 'the care channel is archived: unarchive it or set another CARE_CHANNEL_ID',
  restricted_action: 'a workspace admin restricts posting in that channel',
};

interface WebApiErrorLike {
  code?: string;
  statusCode?: number;
  retryAfter?: number;
  data?: { error?: string; response_metadata?: unknown };
  message?: string;
}

export function classifySlackError(err: unknown): SlackFailure {
  const e = (err ?? {}) as WebApiErrorLike;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return {
        kind: 'rate_limited',
        retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000,
        reason: 'rate limited (429)',
      };
    case ErrorCode.HTTPError:
      return { kind: 'transient', reason: `HTTP ${e.statusCode ?? 'error'}` };
    case ErrorCode.RequestError:
      return { kind: 'transient', reason: 'Slack could not be reached' };
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      if (code === 'ratelimited') return { kind: 'rate_limited', retryAfterMs: 1000, reason: code };
      const hint = PERSON_HINTS[code];
      if (hint) return { kind: 'needs_person', reason: code, hint };
      if (
        code === 'internal_error' ||
        code === 'fatal_error' ||
        code === 'service_unavailable' ||
        code === 'request_timeout'
      ) {
        return { kind: 'transient', reason: code };
      }
      return { kind: 'rejected', reason: code };
    }
    default:
      return { kind: 'transient', reason: e instanceof Error ? e.message : 'unknown error' };
  }
}

/**
 * Slack errors that refuse this payload itself: sending the same content again can never work, so
 * the caller sends something smaller instead of retrying. Slack's own explanation (for
 * `invalid_blocks`, e.g. `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`)
 * comes with it for the log.
 */
const PAYLOAD_REFUSALS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'invalid_arguments',
  'invalid_attachments',
  'too_many_attachments',
  'no_text',
  'markdown_text_conflict',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'metadata_too_large',
]);

export function payloadRefusal(err: unknown): { reason: string; messages: string[] } | undefined {
  const e = (err ?? {}) as WebApiErrorLike;
  if (e.code !== ErrorCode.PlatformError) return undefined;
  const reason = e.data?.error;
  if (!reason || !PAYLOAD_REFUSALS.has(reason)) return undefined;
  const meta = e.data?.response_metadata as { messages?: unknown } | undefined;
  const messages = Array.isArray(meta?.messages)
    ? meta.messages.filter((m): m is string => typeof m === 'string').slice(0, 10)
    : [];
  return { reason, messages };
}
