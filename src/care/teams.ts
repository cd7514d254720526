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
