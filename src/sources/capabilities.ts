/** What carebot can do on each platform, so the card and listeners offer only what works. */
export interface PlatformCapabilities {
  /** Replies can be sent through the platform's API. */
  reply: boolean;
  /** A public conversation can be moved to a private message. */
  privateReply: boolean;
}

const CAPABILITIES: Record<string, PlatformCapabilities> = {
  webhook: { reply: true, privateReply: false },
  x: { reply: true, privateReply: true },
  rss: { reply: false, privateReply: false },
  reddit: { reply: true, privateReply: false },
  facebook: { reply: true, privateReply: true },
  instagram: { reply: true, privateReply: true },
};

export function capabilities(platform: string): PlatformCapabilities {
  return CAPABILITIES[platform] ?? { reply: false, privateReply: false };
}
