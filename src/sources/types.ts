import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Clock } from '../care/clock.js';
import type { InboundMessage, RecordedInbound } from '../care/inbound.js';
import type { PlatformFacts } from '../care/platforms.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';

/**
 * What each platform folder's index.ts exports: the facts the rest of carebot asks about the
 * platform (label, capabilities, reply length, direct messages), its part of the configuration,
 * and `create`, which turns its settings into routes, pollers and a reply adapter.
 * src/sources/index.ts lists them; adding a platform is a folder and a line there.
 */
export interface SourceModule<Key extends string = string, Settings = unknown>
  extends Omit<PlatformFacts, 'platform' | 'sourceNames'> {
  platform: Key;
  /** The configured accounts or feeds by name, with their source keys (for `/care-stats <name>`). */
  sourceNames?(settings: Settings): Array<{ name: string; sourceKey: string }>;
  config: SourceConfig<Settings>;
  create(settings: Settings, deps: SourceDeps): SourceParts;
  /**
   * `npm run check` (and the start-up check): read-only calls that show whether each configured
   * account, Page or feed works, one line each. Never posts, never prints a secret.
   */
  check?(settings: Settings, deps: CheckDeps): Promise<CheckLine[]>;
}

/** One line of the setup check: what was checked, and when it failed, what a person does about it. */
export interface CheckLine {
  ok: boolean;
  /** What was checked and what came out, e.g. `X account "brand": signs in as @brand`. */
  what: string;
  /** What to do when it failed. */
  fix?: string | undefined;
}

/** What a source's check may use: one timeout for every call, and other sources' settings. */
export interface CheckDeps {
  timeoutMs: number;
  clock: Clock;
  settingsOf<Settings>(part: SourceConfig<Settings>): Settings;
}

/**
 * A source's part of the configuration: the schema of `sources.<platform>` in carebot.config.yaml,
 * the environment variables it reads (fallbacks for a single account), and how both become its
 * settings.
 */
export interface SourceConfig<Settings = unknown> {
  file: z.ZodType;
  env?: z.core.$ZodLooseShape;
  /** Problems only seen across variables (a half-set account), each as `NAME: what to do`. */
  check?(env: Record<string, string>): string[];
  // biome-ignore lint/suspicious/noExplicitAny: each source types its own parts (see defineSourceConfig)
  resolve(file: any, env: any, shared: SharedSettings): Settings;
}

/** What every source's settings may fall back on. */
export interface SharedSettings {
  careChannelId: string;
}

/** Types a source's config part from its schemas, so `resolve` sees what they produce. */
export function defineSourceConfig<
  File extends z.ZodType,
  Env extends z.core.$ZodLooseShape,
  Settings,
>(part: {
  file: File;
  env?: Env;
  check?(env: Record<string, string>): string[];
  resolve(file: z.output<File>, env: z.output<z.ZodObject<Env>>, shared: SharedSettings): Settings;
}): SourceConfig<Settings> {
  return part;
}

/** Types a source module with its own platform key and settings. */
export function defineSource<const Key extends string, Settings>(
  module: SourceModule<Key, Settings>,
): SourceModule<Key, Settings> {
  return module;
}

/** What carebot hands every source when it starts. */
export interface SourceDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  /** Stores one message (idempotent) and gets it to Slack. */
  record(message: InboundMessage): Promise<RecordedInbound>;
  /** Notes an edit or removal of a message carebot holds (a no-op for one it does not). */
  recordChange(change: {
    kind: 'edited' | 'removed';
    sourceKey: string;
    externalId: string;
    text?: string | undefined;
  }): Promise<void>;
  /** Called after something was stored, to get it to Slack without waiting for the next round. */
  onStored(): void;
  /** Whether a message is stored already, so a redelivery can skip the lookups a new one needs. */
  isStored(sourceKey: string, externalId: string): Promise<boolean>;
  /** The conversation of a message carebot holds (inbound or a reply it sent), by platform id; undefined if unknown. */
  conversationOf(sourceKey: string, externalId: string): Promise<string | undefined>;
  /** The resolved settings of another source's part, for platforms that share a connection (Instagram through a Facebook Page). */
  settingsOf<Settings>(part: SourceConfig<Settings>): Settings;
}

/** What a source runs: HTTP routes by `METHOD /path`, pollers, and how replies go out. */
export interface SourceParts {
  routes?: Record<string, RouteHandler>;
  pollers?: Poller[];
  reply?: ReplyAdapter;
  /** Counts for the "carebot started" log line, e.g. `{ feeds: 2 }`. */
  started?: Record<string, number>;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A platform payload turned into carebot's inbound message, or the reasons it could not be. */
export type Normalized = { ok: true; message: InboundMessage } | { ok: false; fields: FieldProblem[] };

export interface FieldProblem {
  path: string;
  message: string;
}

/** One reply on its way out, as every platform's `reply` receives it. */
export interface ReplyRequest {
  replyId: number;
  caseId: number;
  sourceKey: string;
  conversationId: string;
  /** The platform's id of the customer's latest message when the reply was written. */
  inReplyTo: string | null;
  /** The customer's id on the platform (the author of the case's first message). */
  customerId: string;
  /** `public` answers in the conversation; `private` in a direct message (moved by an agent). */
  mode: 'public' | 'private';
  text: string;
  agent: { id: string; name: string };
  /** Stable across attempts of the same reply, so a receiver can drop a resend. */
  idempotencyKey: string;
  /**
   * Answers to offer as the platform's quick replies (carebot's rating question), each with the
   * payload the platform hands back when the customer taps it. A platform without quick replies
   * sends the text alone: its question says how to answer in words.
   */
  quickReplies?: ReadonlyArray<{ label: string; payload: string }> | undefined;
  /**
   * An earlier attempt may have reached the platform without carebot hearing how it ended (a
   * timeout, a reset connection, a 5xx, a crash or a lease that ran out mid-send). A platform without
   * an idempotency key looks for the account's own reply with this text before sending again.
   */
  outcomeUnknown?: boolean | undefined;
}

export type ReplyOutcome =
  | {
      ok: true;
      externalId?: string | undefined;
      url?: string | undefined;
      /** What the platform did besides sending, one plain sentence the thread shows ("Replaced the earlier response."). */
      note?: string | undefined;
    }
  /** `permanent`: retrying as is will not help; the reason is shown to the agent in plain words. */
  | {
      ok: false;
      permanent: boolean;
      reason: string;
      retryAfterMs?: number | undefined;
      /** The platform refused the text as a repeat of a post it already has. */
      duplicate?: boolean | undefined;
      /**
       * The request may have been carried out (a timeout, a reset connection, a 5xx after it was
       * sent): the next attempt is told so (`ReplyRequest.outcomeUnknown`) and looks first.
       */
      outcomeUnknown?: boolean | undefined;
      /**
       * The account's credentials stopped working: every reply on this source fails until a person
       * fixes them, so the care channel is told (once a day), not only the agent of this reply.
       */
      credentials?: boolean | undefined;
    };

export interface ReplyAdapter {
  /** How the platform is named to agents ("forum", "X"). */
  label(sourceKey: string): string;
  reply(request: ReplyRequest): Promise<ReplyOutcome>;
}

/**
 * A source that fetches new messages on a schedule. The runner (jobs/pollers.ts) leases each
 * poller's row so one instance polls at a time, hands it the stored cursor, and saves the cursor
 * it returns only after `poll` resolved, i.e. after every message was stored through `record`.
 */
export interface Poller {
  /** Unique per source and account/feed, e.g. `x:1234567890` or `rss:forum`. */
  key: string;
  /** What the care channel is told when the source needs a person, e.g. "X account @brand". */
  label: string;
  everyMs: number;
  poll(ctx: PollContext): Promise<PollOutcome>;
}

export interface PollContext {
  /** The cursor the last successful poll returned; undefined on the very first poll. */
  cursor: string | undefined;
  clock: Clock;
  logger: Logger;
  /** Stores one message (idempotent: the same message again is reported as a duplicate). */
  record(message: InboundMessage): Promise<RecordedInbound>;
}

export type PollOutcome =
  /** Done: store `cursor` (undefined keeps the old one). */
  | { kind: 'ok'; cursor: string | undefined; stored: number }
  /** The platform said to wait (429 with a reset time): the cursor stays, the next poll waits. */
  | { kind: 'rate_limited'; retryAt: Date; cursor?: string | undefined }
  /** The credentials do not work: one notice in the care channel, and the source pauses. */
  | { kind: 'auth_failed'; reason: string; hint: string }
  /** Anything else that may pass (timeouts, 5xx): try again at the next interval. */
  | { kind: 'failed'; reason: string };

/** A platform API's answer as the polling sources' clients read it. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined for an empty one), or the text when it was something else. */
  body: unknown;
}

/** Why a request got no answer worth reading; none of them carries a secret. */
export type ApiProblem =
  /** The platform said to wait (a 429, or its rate-limit headers ran out). */
  | { kind: 'rate_limited'; retryAt: Date }
  /** The credentials do not work or are refused: a person must act. */
  | { kind: 'auth_failed'; reason: string; hint: string }
  /** No answer, a timeout or an error page: it may pass (and a write may have been carried out). */
  | { kind: 'unavailable'; reason: string };

/**
 * One request to a platform's API with a timeout: the answer with its body parsed as JSON (kept as
 * text when it is not), or `unavailable` naming only the kind of failure, since the error may hold
 * the request and its Authorization header. `platform` names it in the reason ("Google").
 */
export async function fetchApi(
  platform: string,
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string; redirect?: 'follow' | 'manual' },
  timeoutMs: number,
): Promise<{ ok: true; response: ApiResponse } | { ok: false; problem: ApiProblem }> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return {
      ok: false,
      problem: {
        kind: 'unavailable',
        reason: timedOut
          ? `${platform} did not answer within ${timeoutMs / 1000} s`
          : `${platform} could not be reached`,
      },
    };
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (an error page): kept as text.
  }
  return { ok: true, response: { status: res.status, headers: res.headers, body } };
}

/** What a poll does about an {@link ApiProblem}: wait, pause with one notice, or try again. */
export function problemOutcome(problem: ApiProblem): PollOutcome {
  switch (problem.kind) {
    case 'rate_limited':
      return { kind: 'rate_limited', retryAt: problem.retryAt };
    case 'auth_failed':
      return { kind: 'auth_failed', reason: problem.reason, hint: problem.hint };
    case 'unavailable':
      return { kind: 'failed', reason: problem.reason };
  }
}

/** Reads a fetch Response's rate-limit reset header (epoch seconds), if any. */
export function resetFromHeaders(headers: Headers, fallbackMs: number, now: Date): Date {
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (Number.isFinite(reset) && reset > 0) return new Date(Math.max(reset * 1000, now.getTime() + 1000));
  const retryAfter = Number(headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return new Date(now.getTime() + retryAfter * 1000);
  return new Date(now.getTime() + fallbackMs);
}
