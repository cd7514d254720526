import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REQUIRED_BOT_SCOPES } from '../../src/check/slack.js';
import { MAX_MESSAGE_TEXT, messageBlockProblems, viewProblems } from './block-kit-check.js';

/**
 * An emulated Slack Web API: the test suite's fake Slack and the sandbox's workspace are this one
 * implementation. It records every call and answers with the shapes Slack documents, including
 * `ok: false` errors, 429 with Retry-After and 5xx when told to fail.
 */

/** Identifiers shared by the fake Web API and the payload builders, so both describe one workspace. */
export const FAKE_TEAM_ID = 'T0CAREBOT';
export const FAKE_APP_ID = 'A0CAREBOT';
export const FAKE_BOT_USER_ID = 'UBOT';
export const FAKE_BOT_ID = 'BBOT';
export const FAKE_PERMALINK_HOST = 'https://fake.slack.test';
/** The bot scopes of manifest.yml: what the fake says a bot token has unless a test changes `scopes`. */
export const FAKE_BOT_SCOPES: string[] = [...REQUIRED_BOT_SCOPES];

export interface SlackCall {
  method: string;
  params: Record<string, unknown>;
  token: string | undefined;
  /** Date.now() when the request arrived. */
  at: number;
  /** HTTP status the fake answered with. */
  status: number;
  /** True when the fake answered HTTP 200 with `ok: true`; only these count for `waitFor`. */
  ok: boolean;
  /** The JSON body the fake answered with (undefined for the plain-text 5xx bodies). */
  response: Record<string, unknown> | undefined;
  /** For "response_url" calls: the name given to `responseUrl(name)`. */
  hook?: string;
}

export interface FakeSlackFailure {
  /** HTTP status to answer with: 429 is a rate limit, anything else (5xx) a plain-text server error. */
  status?: number;
  /** Slack error code to answer with as HTTP 200 `{ ok: false, error }`. */
  error?: string;
  /** Seconds for the Retry-After header of a 429 (default 1). */
  retryAfter?: number;
  /** How many consecutive calls of the method fail (default 1). */
  times?: number;
}

export interface FakeSlack {
  /** Base URL with a trailing slash, ready for `new WebClient(token, { slackApiUrl: fake.url })`. */
  url: string;
  /** Where the emulator listens (127.0.0.1). */
  address: AddressInfo;
  /**
   * Every call recorded, in arrival order, failed ones included. POSTs to a file's `upload_url` are
   * recorded as the method "upload", with the file id and byte length as params.
   */
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /**
   * Resolves once at least `count` (default 1) successful calls to `method` are recorded.
   * Rejects after `timeoutMs` (default 5000) with the list of methods that were called.
   */
  waitFor(method: string, count?: number, timeoutMs?: number): Promise<SlackCall[]>;
  failNext(method: string, failure: FakeSlackFailure): void;
  /** While down, every method answers HTTP 503. */
  setDown(down: boolean): void;
  /** method → milliseconds the fake waits before answering it (a slow Slack); cleared by reset(). */
  delays: Map<string, number>;
  /** usergroup id → member user ids, answered by usergroups.users.list. */
  usergroupMembers: Map<string, string[]>;
  /** user id → user, answered by users.info (unknown ids get a generated full member of the team) and listed by users.list. */
  users: Map<string, FakeSlackUser>;
  /** user id → presence answered by users.getPresence; anyone not in it is `active`. Cleared by reset(). */
  presence: Map<string, 'active' | 'away'>;
  /** user id → the custom status users.profile.get shows; anyone not in it has none. Cleared by reset(). */
  statuses: Map<string, FakeSlackStatus>;
  /**
   * The bot token's scopes, sent as Slack sends them in the `x-oauth-scopes` header of every answer
   * to a call with a token. Defaults to FAKE_BOT_SCOPES (manifest.yml's); a test removes one to
   * see carebot notice.
   */
  scopes: string[];
  /** Tokens Slack does not know (revoked, mistyped): every call with one answers `invalid_auth`. */
  invalidTokens: Set<string>;
  /** Channels the bot is not a member of (conversations.info says `is_member: false`). */
  channelsWithoutBot: Set<string>;
  /**
   * A URL on the fake to use as an interaction's `response_url`, so code calling `respond()` stays
   * off the network. Posts to it are recorded as calls to the method "response_url".
   */
  responseUrl(name?: string): string;
  /**
   * Files started with `files.getUploadURLExternal`, by file id: the bytes POSTed to the upload URL
   * (undefined until then), and where `files.completeUploadExternal` shared them.
   */
  files: Map<string, FakeSlackFile>;
  /** The bytes of an uploaded file; fails the test clearly when there are none. */
  fileBytes(fileId: string): Buffer;
  /**
   * Where `apps.connections.open` sends a Socket Mode client (see fake-socket-mode.ts). Unset, the
   * fake answers as Slack does when handed a bot token instead of an app-level token.
   */
  socketModeUrl: string | undefined;
  /**
   * Calls `listener` with every call once it is answered (the sandbox builds its channel view from
   * these). Returns a function that removes the listener.
   */
  onCall(listener: (call: SlackCall) => void): () => void;
  /**
   * Clears recorded calls, queued failures and files, and brings the fake back up. Message ts and
   * file ids keep increasing.
   */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeSlackUser {
  id: string;
  name: string;
  real_name?: string;
  /** Another workspace than the fake's (a Slack Connect user). */
  team_id?: string;
  /** A multi-channel guest. */
  is_restricted?: boolean;
  /** A single-channel guest. */
  is_ultra_restricted?: boolean;
}

/** A Slack custom status, as users.profile.get shows it. */
export interface FakeSlackStatus {
  /** An emoji code such as `:palm_tree:`. */
  emoji: string;
  text?: string;
  /** Unix seconds when Slack clears it; 0 or unset: it stays. */
  expiration?: number;
}

export interface FakeSlackFile {
  id: string;
  filename: string;
  /** The length announced to files.getUploadURLExternal. */
  length: number;
  bytes: Buffer | undefined;
  /** Set by files.completeUploadExternal. */
  title?: string;
  channelId?: string;
  initialComment?: string;
  completed: boolean;
}

export interface FakeSlackOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
}

type Params = Record<string, unknown>;
type JsonBody = Record<string, unknown>;

interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON, a string as plain text. */
  body: JsonBody | string;
}

interface Waiter {
  method: string;
  count: number;
  resolve(calls: SlackCall[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * @slack/web-api sends every object or array argument (blocks, view, attachments, metadata, …) as a
 * JSON string inside the form. Decoding any form value that starts with `{` or `[` undoes that, except
 * for free-text arguments, whose content may merely look like JSON.
 */
const FREE_TEXT_PARAMS = new Set(['text', 'markdown_text', 'query', 'name', 'title', 'purpose', 'topic']);

const TEXT_PLAIN = 'text/plain; charset=utf-8';
const APPLICATION_JSON = 'application/json; charset=utf-8';

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const botUserId = opts.botUserId ?? FAKE_BOT_USER_ID;
  const botId = opts.botId ?? FAKE_BOT_ID;
  const teamId = opts.teamId ?? FAKE_TEAM_ID;

  const calls: SlackCall[] = [];
  const queuedFailures = new Map<string, Array<FakeSlackFailure & { remaining: number }>>();
  const waiters = new Set<Waiter>();
  const usergroupMembers = new Map<string, string[]>();
  const delays = new Map<string, number>();
  const users = new Map<string, FakeSlackUser>();
  const presence = new Map<string, 'active' | 'away'>();
  const statuses = new Map<string, FakeSlackStatus>();
  let down = false;
  const listeners = new Set<(call: SlackCall) => void>();
  const files = new Map<string, FakeSlackFile>();
  let messageCounter = 0;
  let viewCounter = 0;
  let fileCounter = 0;

  // Real ts values are "<unix seconds>.<6 digits>" and sort as strings; stepping by 100µs from a fixed
  // base keeps them unique and increasing for the whole life of the fake, across reset().
  const nextTs = (): string => {
    messageCounter += 1;
    const micros = messageCounter * 100;
    const seconds = 1_763_900_000 + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };
  const nextViewId = (): string => {
    viewCounter += 1;
    return `V${String(viewCounter).padStart(10, '0')}`;
  };
  const viewHash = (): string =>
    `${Math.floor(Date.now() / 1000)}.${Math.random().toString(36).slice(2, 10)}`;

  const successfulCallsTo = (method: string): SlackCall[] => calls.filter((c) => c.method === method && c.ok);

  const settleWaiters = (): void => {
    for (const waiter of waiters) {
      const matching = successfulCallsTo(waiter.method);
      if (matching.length >= waiter.count) {
        clearTimeout(waiter.timer);
        waiters.delete(waiter);
        waiter.resolve(matching);
      }
    }
  };

  const buildView = (view: Params, id: string): JsonBody => ({
    team_id: teamId,
    type: 'modal',
    blocks: [],
    private_metadata: '',
    callback_id: '',
    state: { values: {} },
    hash: viewHash(),
    clear_on_close: false,
    notify_on_close: false,
    close: null,
    submit: null,
    previous_view_id: null,
    root_view_id: id,
    app_id: FAKE_APP_ID,
    external_id: '',
    app_installed_team_id: teamId,
    bot_id: botId,
    ...view,
    // Slack assigns the id; last so nothing the caller put in the view can override it.
    id,
  });

  const botMessage = (params: Params, ts: string): JsonBody => {
    const message: JsonBody = {
      type: 'message',
      text: typeof params.text === 'string' ? params.text : '',
      user: botUserId,
      bot_id: botId,
      app_id: FAKE_APP_ID,
      team: teamId,
      ts,
    };
    if (params.blocks !== undefined) message.blocks = params.blocks;
    if (params.attachments !== undefined) message.attachments = params.attachments;
    if (params.metadata !== undefined) message.metadata = params.metadata;
    if (typeof params.thread_ts === 'string') message.thread_ts = params.thread_ts;
    return message;
  };

  const hasContent = (value: unknown): boolean =>
    (typeof value === 'string' && value !== '') || (Array.isArray(value) && value.length > 0);

  const okReply = (body: JsonBody): Reply => ({ status: 200, body: { ok: true, ...body } });
  const errorReply = (error: string): Reply => ({ status: 200, body: { ok: false, error } });
  // Slack lists what is wrong with a payload in `errors` and `response_metadata.messages`.
  const refusal = (error: string, problems: string[]): Reply => ({
    status: 200,
    body: {
      ok: false,
      error,
      errors: problems.map((p) => p.replace(/^\[ERROR\] /, '')),
      response_metadata: { messages: problems },
    },
  });
  /** What Slack refuses in a message, as it refuses it, or undefined when the message is fine. */
  const messageRefusal = (params: Params): Reply | undefined => {
    if (typeof params.text === 'string' && params.text.length > MAX_MESSAGE_TEXT)
      return errorReply('msg_too_long');
    if (params.blocks !== undefined) {
      if (typeof params.blocks === 'string') return errorReply('invalid_blocks_format');
      const problems = messageBlockProblems(params.blocks);
      if (problems.length > 0) return refusal('invalid_blocks', problems);
    }
    return undefined;
  };
  const viewRefusal = (view: Params): Reply | undefined => {
    const problems = viewProblems(view);
    return problems.length > 0 ? refusal('invalid_arguments', problems) : undefined;
  };

  // One handler per Web API method, answering with the shapes Slack documents for them.
  const handlers: Record<string, (params: Params) => Reply> = {
    'auth.test': () =>
      okReply({
        url: `${FAKE_PERMALINK_HOST}/`,
        team: 'Carebot Test Workspace',
        user: 'carebot',
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        is_enterprise_install: false,
      }),
    'chat.postMessage': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      // Slack accepts attachments-only messages too; only a message with nothing to show is rejected.
      if (!hasContent(params.text) && !hasContent(params.blocks) && !hasContent(params.attachments)) {
        return errorReply('no_text');
      }
      const refused = messageRefusal(params);
      if (refused) return refused;
      const ts = nextTs();
      return okReply({ channel: params.channel, ts, message: botMessage(params, ts) });
    },
    'chat.update': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      if (!hasContent(params.ts)) return errorReply('message_not_found');
      const refused = messageRefusal(params);
      if (refused) return refused;
      const ts = params.ts as string;
      return okReply({
        channel: params.channel,
        ts,
        text: typeof params.text === 'string' ? params.text : '',
        message: botMessage(params, ts),
      });
    },
    'chat.postEphemeral': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      if (!hasContent(params.text) && !hasContent(params.blocks) && !hasContent(params.attachments)) {
        return errorReply('no_text');
      }
      const refused = messageRefusal(params);
      if (refused) return refused;
      return okReply({ message_ts: nextTs() });
    },
    'chat.delete': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      if (!hasContent(params.ts)) return errorReply('message_not_found');
      return okReply({ channel: params.channel, ts: params.ts });
    },
    'chat.getPermalink': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      if (!hasContent(params.message_ts)) return errorReply('message_not_found');
      const channel = params.channel as string;
      const ts = (params.message_ts as string).replace('.', '');
      return okReply({ channel, permalink: `${FAKE_PERMALINK_HOST}/archives/${channel}/p${ts}` });
    },
    'files.getUploadURLExternal': (params) => {
      const length = Number(params.length);
      if (!hasContent(params.filename) || !Number.isInteger(length) || length <= 0) {
        return errorReply('invalid_arguments');
      }
      fileCounter += 1;
      const id = `F${String(fileCounter).padStart(10, '0')}`;
      files.set(id, { id, filename: params.filename as string, length, bytes: undefined, completed: false });
      return okReply({ upload_url: `${origin}/upload/${id}`, file_id: id });
    },
    'files.completeUploadExternal': (params) => {
      const list = Array.isArray(params.files) ? (params.files as Array<Record<string, unknown>>) : undefined;
      if (!list || list.length === 0) return errorReply('invalid_arguments');
      const shared: JsonBody[] = [];
      for (const item of list) {
        const file = typeof item.id === 'string' ? files.get(item.id) : undefined;
        // Slack refuses to complete a file whose bytes never arrived.
        if (!file?.bytes) return errorReply('file_not_found');
        file.completed = true;
        file.title = typeof item.title === 'string' ? item.title : file.filename;
        if (typeof params.channel_id === 'string') file.channelId = params.channel_id;
        if (typeof params.initial_comment === 'string') file.initialComment = params.initial_comment;
        shared.push({
          id: file.id,
          title: file.title,
          name: file.filename,
          size: file.bytes.length,
          channels: file.channelId ? [file.channelId] : [],
        });
      }
      return okReply({ files: shared });
    },
    'views.open': (params) => {
      if (!isObject(params.view)) return errorReply('invalid_arguments');
      const refused = viewRefusal(params.view);
      if (refused) return refused;
      return okReply({ view: buildView(params.view, nextViewId()) });
    },
    'views.push': (params) => {
      if (!isObject(params.view)) return errorReply('invalid_arguments');
      const refused = viewRefusal(params.view);
      if (refused) return refused;
      return okReply({ view: buildView(params.view, nextViewId()) });
    },
    'views.update': (params) => {
      if (!isObject(params.view)) return errorReply('invalid_arguments');
      const refused = viewRefusal(params.view);
      if (refused) return refused;
      const id = typeof params.view_id === 'string' && params.view_id !== '' ? params.view_id : nextViewId();
      return okReply({ view: buildView(params.view, id) });
    },
    'views.publish': (params) => {
      if (!isObject(params.view)) return errorReply('invalid_arguments');
      if (!hasContent(params.user_id)) return errorReply('user_not_found');
      const refused = viewRefusal({ type: 'home', ...params.view });
      if (refused) return refused;
      return okReply({ view: buildView({ type: 'home', ...params.view }, nextViewId()) });
    },
    'reactions.add': () => okReply({}),
    'reactions.remove': () => okReply({}),
    // The user groups of the workspace: those given members in `usergroupMembers`.
    'usergroups.list': () =>
      okReply({
        usergroups: [...usergroupMembers].map(([id, members]) => ({
          id,
          team_id: teamId,
          is_usergroup: true,
          name: id.toLowerCase(),
          handle: id.toLowerCase(),
          date_delete: 0,
          user_count: members.length,
        })),
      }),
    'usergroups.users.list': (params) => {
      const members =
        typeof params.usergroup === 'string' ? usergroupMembers.get(params.usergroup) : undefined;
      return members ? okReply({ users: [...members] }) : errorReply('no_such_subteam');
    },
    'users.info': (params) => {
      if (typeof params.user !== 'string' || params.user === '') return errorReply('user_not_found');
      const id = params.user;
      const known = users.get(id);
      const name = known?.name ?? id.toLowerCase();
      const realName = known?.real_name ?? (known ? known.name : `User ${id}`);
      return okReply({
        user: {
          id,
          team_id: known?.team_id ?? teamId,
          name,
          real_name: realName,
          deleted: false,
          is_bot: false,
          is_restricted: known?.is_restricted ?? false,
          is_ultra_restricted: known?.is_ultra_restricted ?? false,
          profile: { real_name: realName, display_name: name },
        },
      });
    },
    // Another user's presence: Slack gives only `presence` (active or away) for anyone but the caller.
    'users.getPresence': (params) => {
      if (!hasContent(params.user)) return errorReply('user_not_found');
      return okReply({ presence: presence.get(params.user as string) ?? 'active' });
    },
    // A profile with its custom status; needs users.profile:read, as in Slack.
    'users.profile.get': (params) => {
      if (!fake.scopes.includes('users.profile:read')) {
        return {
          status: 200,
          body: {
            ok: false,
            error: 'missing_scope',
            needed: 'users.profile:read',
            provided: fake.scopes.join(','),
          },
        };
      }
      if (!hasContent(params.user)) return errorReply('user_not_found');
      const id = params.user as string;
      const known = users.get(id);
      const name = known?.name ?? id.toLowerCase();
      const realName = known?.real_name ?? (known ? known.name : `User ${id}`);
      const status = statuses.get(id);
      return okReply({
        profile: {
          real_name: realName,
          real_name_normalized: realName,
          display_name: name,
          display_name_normalized: name,
          status_text: status ? (status.text ?? '') : '',
          status_emoji: status?.emoji ?? '',
          status_expiration: status?.expiration ?? 0,
          team: known?.team_id ?? teamId,
        },
      });
    },
    // The known users (`users`), `limit` per page with a `next_cursor`, as Slack pages them.
    'users.list': (params) => {
      const all = [...users.values()];
      const start = typeof params.cursor === 'string' && params.cursor !== '' ? Number(params.cursor) : 0;
      if (!Number.isInteger(start) || start < 0) return errorReply('invalid_cursor');
      const limit = Math.max(1, Math.min(1000, Number(params.limit ?? 0) || 1000));
      const page = all.slice(start, start + limit);
      const next = start + limit < all.length ? String(start + limit) : '';
      return okReply({
        members: page.map((u) => ({
          id: u.id,
          team_id: u.team_id ?? teamId,
          name: u.name,
          real_name: u.real_name ?? u.name,
          deleted: false,
          is_bot: false,
          is_restricted: u.is_restricted ?? false,
          is_ultra_restricted: u.is_ultra_restricted ?? false,
          profile: { real_name: u.real_name ?? u.name, display_name: u.name },
        })),
        cache_ts: Math.floor(Date.now() / 1000),
        response_metadata: { next_cursor: next },
      });
    },
    // Top-level messages the bot posted in the channel, newest first, as Slack lists them.
    'conversations.history': (params) => {
      if (typeof params.channel !== 'string') return errorReply('channel_not_found');
      const oldest = Number(params.oldest ?? 0);
      const withMetadata = params.include_all_metadata === true || params.include_all_metadata === 'true';
      const posted = calls
        .filter(
          (c) =>
            c.ok &&
            c.method === 'chat.postMessage' &&
            c.params.channel === params.channel &&
            c.params.thread_ts === undefined &&
            Number((c.response as { ts?: string } | undefined)?.ts ?? 0) >= oldest,
        )
        .map((c) => {
          const message = { ...((c.response as { message?: JsonBody }).message ?? {}) };
          if (!withMetadata) delete message.metadata;
          return message;
        })
        .reverse();
      return okReply({ messages: posted.slice(0, Number(params.limit ?? 100)), has_more: false });
    },
    // A thread as Slack returns it: the parent first, then the replies, oldest first, filtered by
    // oldest/latest (exclusive unless `inclusive`), `limit` per page with a `next_cursor`.
    'conversations.replies': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      if (!hasContent(params.ts)) return errorReply('thread_not_found');
      const posted = calls
        .filter((c) => c.ok && c.method === 'chat.postMessage' && c.params.channel === params.channel)
        .map((c) => ({ ...((c.response as { message?: JsonBody }).message ?? {}) }));
      const asked = posted.find((m) => m.ts === params.ts);
      if (!asked) return errorReply('thread_not_found');
      const parentTs = typeof asked.thread_ts === 'string' ? asked.thread_ts : (asked.ts as string);
      const parent = posted.find((m) => m.ts === parentTs);
      const replies = posted.filter((m) => m.thread_ts === parentTs && m.ts !== parentTs);
      const inclusive = params.inclusive === true || params.inclusive === 'true' || params.inclusive === '1';
      const oldest = params.oldest === undefined ? undefined : Number(params.oldest);
      const latest = params.latest === undefined ? undefined : Number(params.latest);
      const withMetadata = params.include_all_metadata === true || params.include_all_metadata === 'true';
      const thread = [
        ...(parent
          ? [
              {
                ...parent,
                thread_ts: parentTs,
                reply_count: replies.length,
                ...(replies.length > 0 ? { latest_reply: replies.at(-1)?.ts } : {}),
              },
            ]
          : []),
        ...replies,
      ]
        .filter((m) => {
          const at = Number(m.ts);
          if (oldest !== undefined && (inclusive ? at < oldest : at <= oldest)) return false;
          if (latest !== undefined && (inclusive ? at > latest : at >= latest)) return false;
          return true;
        })
        .map((m) => {
          if (!withMetadata) delete m.metadata;
          return m;
        });
      const limit = Math.min(1000, Math.max(1, Number(params.limit ?? 1000) || 1000));
      const start =
        typeof params.cursor === 'string' && params.cursor !== ''
          ? Number(
              Buffer.from(params.cursor, 'base64')
                .toString('utf8')
                .replace(/^offset:/, ''),
            )
          : 0;
      if (!Number.isInteger(start) || start < 0) return errorReply('invalid_cursor');
      const page = thread.slice(start, start + limit);
      const more = start + limit < thread.length;
      return okReply({
        messages: page,
        has_more: more,
        response_metadata: {
          next_cursor: more ? Buffer.from(`offset:${start + limit}`).toString('base64') : '',
        },
      });
    },
    'conversations.info': (params) => {
      if (!hasContent(params.channel)) return errorReply('channel_not_found');
      return okReply({
        channel: {
          id: params.channel,
          name: 'care',
          is_channel: true,
          is_private: false,
          is_archived: false,
          is_member: !fake.channelsWithoutBot.has(params.channel as string),
        },
      });
    },
    'apps.connections.open': () =>
      fake.socketModeUrl ? okReply({ url: fake.socketModeUrl }) : errorReply('not_allowed_token_type'),
  };

  const injectedFailure = (method: string): Reply | undefined => {
    if (down) return { status: 503, body: 'fake slack is down' };
    const queue = queuedFailures.get(method);
    const failure = queue?.[0];
    if (!queue || !failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) queue.shift();
    if (queue.length === 0) queuedFailures.delete(method);
    if (failure.status === 429) {
      return {
        status: 429,
        headers: { 'Retry-After': String(failure.retryAfter ?? 1) },
        body: { ok: false, error: 'ratelimited' },
      };
    }
    if (failure.status !== undefined && failure.status !== 200) {
      return { status: failure.status, body: `fake slack: injected HTTP ${failure.status} for ${method}` };
    }
    return errorReply(failure.error ?? 'internal_error');
  };

  const answer = (method: string, params: Params, token: string | undefined): Reply => {
    const failure = injectedFailure(method);
    if (failure) return failure;
    // hasOwn keeps names like "toString" from reaching Object.prototype.
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (!handler) return errorReply('unknown_method');
    // Slack checks authentication before arguments, so a missing token wins over every other error.
    if (!token) return errorReply('not_authed');
    if (fake.invalidTokens.has(token)) return errorReply('invalid_auth');
    const reply = handler(params);
    // Slack names the calling token's scopes on every authenticated answer.
    const scopes = token.startsWith('xapp-') ? 'connections:write' : fake.scopes.join(',');
    return { ...reply, headers: { 'x-oauth-scopes': scopes, ...reply.headers } };
  };

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((error: unknown) => {
      // A bug in the fake should surface in the test output rather than hang the client.
      if (!res.headersSent) send(res, { status: 500, body: `fake slack crashed: ${String(error)}` });
    });
  });

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://fake.slack.test');
    const rawBytes = await readBody(req);
    const rawBody = rawBytes.toString('utf8');

    if (url.pathname.startsWith('/upload/')) {
      const id = decodeURIComponent(url.pathname.slice('/upload/'.length));
      const file = files.get(id);
      const reply: Reply = down
        ? { status: 503, body: 'fake slack is down' }
        : file
          ? { status: 200, body: `OK - ${rawBytes.length}` }
          : { status: 404, body: 'fake slack: no such upload' };
      if (file && reply.status === 200) file.bytes = await uploadedBytes(req, rawBytes);
      calls.push({
        method: 'upload',
        params: { file_id: id, length: file?.bytes?.length ?? rawBytes.length },
        token: bearerToken(req),
        at,
        status: reply.status,
        ok: reply.status === 200,
        response: undefined,
      });
      settleWaiters();
      send(res, reply);
      return;
    }

    if (url.pathname.startsWith('/hooks/')) {
      const params = parseJsonObject(rawBody) ?? { raw: rawBody };
      const hook = decodeURIComponent(url.pathname.slice('/hooks/'.length));
      const reply = messageRefusal(params) ?? { status: 200, body: { ok: true } };
      record({ method: 'response_url', params, token: undefined, at, hook }, reply);
      send(res, reply);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      send(res, { status: 404, body: `fake slack: no route for ${url.pathname}` });
      return;
    }

    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    const delay = delays.get(method);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    const { params, token, invalidJson } = parseParams(req, url, rawBody);
    const reply = invalidJson ? errorReply('invalid_json') : answer(method, params, token);
    record({ method, params, token, at }, reply);
    send(res, reply);
  };

  const record = (
    call: Pick<SlackCall, 'method' | 'params' | 'token' | 'at' | 'hook'>,
    reply: Reply,
  ): void => {
    const response = typeof reply.body === 'string' ? undefined : reply.body;
    const recorded: SlackCall = {
      ...call,
      status: reply.status,
      ok: reply.status === 200 && response?.ok === true,
      response,
    };
    calls.push(recorded);
    settleWaiters();
    for (const listener of listeners) listener(recorded);
  };

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const fake: FakeSlack = {
    socketModeUrl: undefined,
    files,
    fileBytes: (fileId) => {
      const bytes = files.get(fileId)?.bytes;
      if (!bytes) throw new Error(`fake slack: no bytes were uploaded for file ${fileId}`);
      return bytes;
    },
    url: `${origin}/api/`,
    address: server.address() as AddressInfo,
    calls,
    usergroupMembers,
    delays,
    users,
    presence,
    statuses,
    scopes: [...FAKE_BOT_SCOPES],
    invalidTokens: new Set(),
    channelsWithoutBot: new Set(),
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor: (method, count = 1, timeoutMs = 5000) => {
      const already = successfulCallsTo(method);
      if (already.length >= count) return Promise.resolve(already);
      return new Promise<SlackCall[]>((resolve, reject) => {
        const waiter: Waiter = {
          method,
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(
              new Error(
                `fake slack: expected ${count} successful call(s) to ${method} within ${timeoutMs}ms, ` +
                  `got ${successfulCallsTo(method).length}. Recorded calls: ${describeCalls(calls)}`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    failNext: (method, failure) => {
      if (failure.status === undefined && failure.error === undefined) {
        throw new TypeError('failNext needs a status or an error to answer with');
      }
      // Appending lets a test script a sequence, e.g. one rate limit followed by one server error.
      const queue = queuedFailures.get(method) ?? [];
      queue.push({ ...failure, remaining: failure.times ?? 1 });
      queuedFailures.set(method, queue);
    },
    setDown: (isDown) => {
      down = isDown;
    },
    onCall: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    responseUrl: (name = 'interaction') => `${origin}/hooks/${encodeURIComponent(name)}`,
    reset: () => {
      calls.length = 0;
      delays.clear();
      queuedFailures.clear();
      files.clear();
      presence.clear();
      statuses.clear();
      down = false;
      fake.scopes = [...FAKE_BOT_SCOPES];
      fake.invalidTokens.clear();
      fake.channelsWithoutBot.clear();
    },
    close: async () => {
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`fake slack closed while waiting for ${waiter.method}`));
      }
      waiters.clear();
      // fetch keeps connections alive; without this close() would wait for them to time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
  return fake;
}

function describeCalls(calls: SlackCall[]): string {
  if (calls.length === 0) return '(none)';
  return calls
    .map((c) => {
      const outcome = c.ok ? 'ok' : c.response?.error ? String(c.response.error) : `HTTP ${c.status}`;
      return `${c.method} [${outcome}]`;
    })
    .join(', ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The file in an upload: Slack takes the raw bytes as the body, or a multipart form whose file part
 * holds them (what @slack/web-api sends).
 */
async function uploadedBytes(req: IncomingMessage, raw: Buffer): Promise<Buffer> {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('multipart/form-data')) return raw;
  const form = await new Response(new Uint8Array(raw), {
    headers: { 'content-type': contentType },
  }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  return raw;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Reads arguments the way Slack does: query string, then a form or JSON body. The token may come as a
 * `token` argument or an `Authorization: Bearer` header, and is kept out of the recorded params.
 */
function parseParams(
  req: IncomingMessage,
  url: URL,
  rawBody: string,
): { params: Params; token: string | undefined; invalidJson: boolean } {
  const params: Params = {};
  for (const [key, value] of url.searchParams) params[key] = decodeFormValue(key, value);

  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/json')) {
    if (rawBody.trim() !== '') {
      const body = parseJsonObject(rawBody);
      if (!body) return { params, token: bearerToken(req), invalidJson: true };
      Object.assign(params, body);
    }
  } else if (rawBody !== '') {
    for (const [key, value] of new URLSearchParams(rawBody)) params[key] = decodeFormValue(key, value);
  }

  const formToken = typeof params.token === 'string' && params.token !== '' ? params.token : undefined;
  delete params.token;
  return { params, token: formToken ?? bearerToken(req), invalidJson: false };
}

function decodeFormValue(key: string, value: string): unknown {
  const looksEncoded = value.startsWith('{') || value.startsWith('[');
  if (!looksEncoded || FREE_TEXT_PARAMS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const isText = typeof reply.body === 'string';
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': isText ? TEXT_PLAIN : APPLICATION_JSON,
    'Content-Length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}
