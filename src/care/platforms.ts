/**
 * What the domain and the Slack views need to know about a platform, asked by its key instead of
 * `if (platform === …)`. The facts come from each source module (src/sources/<platform>/index.ts);
 * src/sources/index.ts registers the list at start-up. This module imports nothing, so `care/` and
 * `slack/` can ask it without importing every source.
 */

/** What carebot can do on a platform, so the card and listeners offer only what works. */
export interface PlatformCapabilities {
  /** Public replies can be sent through the platform's API. */
  reply: boolean;
  /** The customer can be written to privately (a direct message, a Messenger message). */
  directMessage: boolean;
  /** A public conversation can be moved to a private message by an agent. */
  privateReply: boolean;
  /** The platform's API lets a sent reply be edited (carebot does not offer it yet). */
  edit: boolean;
  /** The platform's API lets a sent reply be deleted (carebot does not offer it yet). */
  delete: boolean;
}

/** How long a reply may be where it goes, as the platform counts it. */
export interface LengthRule {
  /** The key of `tone.max_length` (and of the target): the platform key, or e.g. `x_dm`. */
  target: string;
  limit: number;
  /** How the target is named in the tone check's message: "X", "an X direct message". */
  name: string;
  /** The platform's own count (X weighs URLs and CJK); default: characters. */
  count?(text: string): number;
  /** Said after the count when it is the platform's own: "as X counts them". */
  countedBy?: string;
}

export interface PlatformFacts {
  /** Stored with every case (`cases.platform`) and the first part of its source keys. */
  platform: string;
  /** How the platform is named to people ("X", "Facebook"). */
  label: string;
  /** Other words people use for it, e.g. `twitter` (the /care-stats platform filter). */
  aliases?: readonly string[];
  capabilities: PlatformCapabilities;
  /** Limits of public replies and of direct messages; none: no limit is checked. */
  length?: { public?: LengthRule; direct?: LengthRule };
  /** Whether a conversation id is a direct-message conversation (e.g. `dm:` on X). */
  isDirect?(conversationId: string): boolean;
  /**
   * Whether an agent may move this public conversation to a private message, on a platform with
   * `privateReply` (default: yes). An Instagram @mention on someone else's media, for one, cannot.
   */
  canMoveToPrivate?(conversationId: string): boolean;
  /**
   * Its sources are named by whoever sends (`webhook:forum`): cards and stats call them by that
   * name instead of the platform's label.
   */
  namedBySource?: boolean;
  /** The configured accounts or feeds by name, with their source keys (for `/care-stats <name>`). */
  sourceNames?(settings: unknown): Array<{ name: string; sourceKey: string }>;
}

const NO_CAPABILITIES: PlatformCapabilities = {
  reply: false,
  directMessage: false,
  privateReply: false,
  edit: false,
  delete: false,
};

const registry = new Map<string, PlatformFacts>();

/** Called once by src/sources/index.ts with every source module. */
export function registerPlatforms(list: readonly PlatformFacts[]): void {
  for (const facts of list) registry.set(facts.platform, facts);
}

/** The facts of a platform; an unknown key gets a platform named by its key that cannot be answered. */
export function platformInfo(platform: string): PlatformFacts {
  return registry.get(platform) ?? { platform, label: platform, capabilities: NO_CAPABILITIES };
}

export function capabilities(platform: string): PlatformCapabilities {
  return platformInfo(platform).capabilities;
}

/** Whether a public conversation on `platform` may be moved to a private message ("Move to DM"). */
export function canMoveToPrivate(platform: string, conversationId: string): boolean {
  const facts = platformInfo(platform);
  return (
    facts.capabilities.privateReply &&
    !facts.isDirect?.(conversationId) &&
    (facts.canMoveToPrivate?.(conversationId) ?? true)
  );
}

/** Every registered platform key, in the order of src/sources/index.ts. */
export function platformKeys(): string[] {
  return [...registry.keys()];
}

/** Platform keys and aliases people may type, each to its platform key. */
export function platformWords(): Map<string, string> {
  const words = new Map<string, string>();
  for (const facts of registry.values()) {
    words.set(facts.platform, facts.platform);
    for (const alias of facts.aliases ?? []) words.set(alias, facts.platform);
  }
  return words;
}

/** Platforms whose sources are named by whoever sends (`webhook:forum`). */
export function platformsNamedBySource(): string[] {
  return [...registry.values()].filter((f) => f.namedBySource).map((f) => f.platform);
}

/** Every length rule by its target key (`x`, `x_dm`, `messenger`, …). */
export function lengthRules(): Map<string, LengthRule> {
  const rules = new Map<string, LengthRule>();
  for (const facts of registry.values()) {
    if (facts.length?.public) rules.set(facts.length.public.target, facts.length.public);
    if (facts.length?.direct) rules.set(facts.length.direct.target, facts.length.direct);
  }
  return rules;
}

/** The source keys of configured accounts and feeds called `name` (lowercase), over every platform. */
export function configuredSourceKeys(sources: Record<string, unknown>, name: string): string[] {
  return [...registry.values()].flatMap((facts) => {
    const settings = sources[facts.platform];
    if (!facts.sourceNames || settings === undefined) return [];
    return facts
      .sourceNames(settings)
      .filter((s) => s.name.toLowerCase() === name)
      .map((s) => s.sourceKey);
  });
}
