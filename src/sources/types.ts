import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InboundMessage } from '../care/inbound.js';

/**
 * What every platform folder under `sources/` provides. The foundation has one source, the generic
 * webhook; later platforms add pollers and reply delivery behind the same shape.
 */
export interface SourceAdapter {
  /** `platform` or `platform:account`, stored with every case and message of the source. */
  key: string;
  platform: string;
  /** The Slack channel its cases go to. */
  channel: string;
  /** HTTP routes the source answers on carebot's port, by path. */
  routes?: Record<string, RouteHandler>;
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
  text: string;
  agent: { id: string; name: string };
  /** Stable across attempts of the same reply, so a receiver can drop a resend. */
  idempotencyKey: string;
}

export type ReplyOutcome =
  | { ok: true; externalId?: string | undefined; url?: string | undefined }
  /** `permanent`: retrying as is will not help; the reason is shown to the agent in plain words. */
  | { ok: false; permanent: boolean; reason: string; retryAfterMs?: number | undefined };

export interface ReplyAdapter {
  /** How the platform is named to agents ("forum", "X"). */
  label(sourceKey: string): string;
  reply(request: ReplyRequest): Promise<ReplyOutcome>;
}
