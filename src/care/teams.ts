import type { Duration } from './clock.js';

/** A team cases are escalated to (`teams` in carebot.config.yaml), mentioned by user group or users. */
export interface Team {
  key: string;
  name: string;
  usergroup?: string | undefined;
  users?: string[] | undefined;
  /** Not acknowledged within this: mention the team again and tell the owner. */
  ackWithin?: Duration | undefined;
}

/** The configured team of a key, or a stand-in named after the key (a team removed from the config). */
export function teamByKey(teams: readonly Team[], key: string): Team {
  return teams.find((t) => t.key === key) ?? { key, name: key };
}
