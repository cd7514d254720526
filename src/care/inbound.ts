/** A customer's message as every source hands it to `care`, whatever the platform. */
export interface InboundMessage {
  /** Platform plus account or named source, e.g. `webhook:forum`; with `externalId` it is unique. */
  sourceKey: string;
  platform: string;
  /** The platform's id of the message. */
  externalId: string;
  /** Messages with the same conversation id join one case. */
  conversationId: string;
  author: {
    id: string;
    name?: string | undefined;
    handle?: string | undefined;
    url?: string | undefined;
    /** Followers, where the platform tells them: reach decides how urgent a complaint is. */
    followers?: number | undefined;
  };
  text: string;
  url?: string | undefined;
  sentAt: Date;
  /**
   * What matters about this message on its platform, shown on the card (first message) and with a
   * follow-up in the thread: `★☆☆☆☆ 1 of 5`, `app 4.2.1`, `Pixel 7 · Android 14`. Plain text;
   * care keeps the first {@link MAX_FACTS}, each cut at {@link MAX_FACT_LENGTH} characters.
   */
  facts?: string[] | undefined;
  /** The least priority the source asks for (a one-star review); care takes the higher one. */
  priority?: { at: 'P1' | 'P2' | 'P3'; reason: string } | undefined;
  /**
   * The payload of a quick reply the customer tapped (Messenger's `quick_reply.payload`, X's
   * `quick_reply_response.metadata`), when the platform says so: carebot's own rating question
   * offers `csat:1`…`csat:5`.
   */
  quickReply?: string | undefined;
  /** The Slack channel the source routes its cases to. */
  channelId: string;
}

/** What `care` tells a source about the message it handed over. */
export interface RecordedInbound {
  caseId: number;
  messageId: number;
  duplicate: boolean;
  /** True when this message opened a new case. */
  opened: boolean;
}

export const MAX_FACTS = 6;
export const MAX_FACT_LENGTH = 80;

/** A star rating as review cards show it: `★★☆☆☆ 2 of 5`. */
export function starFact(stars: number, of = 5): string {
  const n = Math.max(0, Math.min(of, Math.round(stars)));
  return `${'★'.repeat(n)}${'☆'.repeat(of - n)} ${n} of ${of}`;
}

/** The `messages` row of a customer's message in case `caseId`, stored at `now`. */
export function inboundRow(caseId: number, msg: InboundMessage, now: Date) {
  return {
    caseId,
    kind: 'inbound' as const,
    sourceKey: msg.sourceKey,
    externalId: msg.externalId,
    authorId: msg.author.id,
    authorName: msg.author.name ?? null,
    authorHandle: msg.author.handle ?? null,
    authorUrl: msg.author.url ?? null,
    authorFollowers: msg.author.followers ?? null,
    facts: msg.facts?.length ? msg.facts : null,
    text: msg.text,
    url: msg.url ?? null,
    sentAt: msg.sentAt,
    createdAt: now,
  };
}
