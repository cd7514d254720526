import type { InboundMessage } from '../../care/inbound.js';

/** A customer edited or removed something carebot already holds; the Slack thread shows it. */
export interface InboundChange {
  kind: 'edited' | 'removed';
  sourceKey: string;
  /** The platform's id of the message that changed. */
  externalId: string;
  /** The new text, for `edited`. */
  text?: string | undefined;
}

/** What one webhook delivery asks of carebot, in the order it came. */
export type WebhookWork =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'change'; change: InboundChange };
