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
