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
