import { type Team, teamByKey } from './teams.js';

/**
 * Who may do what: the one place that decides (DESIGN.md, "Permissions"). Listeners ask it and
 * show its answer; none decides on its own. It knows nothing of Slack or HTTP: the directory it is
 * given looks people and user groups up, and throws when it cannot.
 *
 * Fail closed: when a lookup fails, the action is refused with "could not check", never allowed
 * and never quietly treated as "not a member".
 */

/** What the directory knows of a person. */
export interface Person {
  id: string;
  /** The person's own workspace; another team than the installation's means Slack Connect. */
  teamId: string | undefined;
  /** A multi-channel or single-channel guest (`is_restricted`, `is_ultra_restricted`). */
  guest: boolean;
  deleted: boolean;
  bot: boolean;
}

/** Looks people and user groups up. Every method throws when it cannot answer. */
export interface Directory {
  person(userId: string): Promise<Person>;
  members(usergroupId: string): Promise<ReadonlySet<string>>;
  /** The workspace carebot is installed in. */
  installationTeamId(): Promise<string>;
}

export interface PermissionSettings {
  careTeamUsergroup: string | null;
  managersUsergroup: string | null;
  teams: readonly Team[];
  /** Reply approval (care/approval.ts): trainees' replies wait for an approver. */
  approval?: { traineesUsergroup: string | null; approversUsergroup: string | null };
}

/** Who is asking: the Slack user, and the team the request says they belong to, when it says. */
export interface Actor {
  userId: string;
  teamId?: string | undefined;
}

/** Actions that reach a customer or change a case: the care team's. */
export type CareAction =
  | 'claim'
  | 'unclaim'
  | 'reply'
  | 'move_to_dm'
  | 'resolve'
  | 'reopen'
  | 'priority'
  | 'escalate'
  | 'take_over'
  /** Mark a case as waiting on the customer, or end that wait. */
  | 'wait'
  /** Link authors as the same person, edit a customer's note and VIP flag. */
  | 'customer';

export type Permission =
  | { action: CareAction }
  | { action: 'note' }
  /** Acknowledge or answer an escalation to the team with this key. */
  | { action: 'escalation'; teamKey: string }
  | { action: 'saved_replies' }
  /** Open, edit, resolve an incident, change its lead, link cases, write its statement. */
  | { action: 'incident' }
  /** Send an incident's statement: the incident permission, and being its lead. */
  | { action: 'send_statement'; leadId: string }
  | { action: 'crisis_mode' }
  | { action: 'stats' }
  /** Erase a customer's words from every case of theirs (`/care forget`). */
  | { action: 'forget' }
  /** Approve, edit or reject a trainee's reply written by `authorId`. */
  | { action: 'approve_reply'; authorId: string };

/**
 * `approval: 'required'` only ever comes with `reply`: the person is in training, so what they
 * write for the customer waits for an approver instead of going out.
 */
export type Decision =
  | { allowed: true; approval?: 'required' }
  | { allowed: false; reason: 'not_permitted' | 'lookup_failed'; message: string };

export const LOOKUP_FAILED_TEXT =
  'Could not check your permissions (Slack did not answer); nothing was done. Try again in a moment.';

const ALLOWED: Decision = { allowed: true };
const NEEDS_APPROVAL: Decision = { allowed: true, approval: 'required' };

export const SELF_APPROVAL_TEXT =
  'You wrote this reply, so another approver has to approve, edit or reject it.';

const REFUSALS: Record<
  Exclude<Permission['action'], 'note' | 'escalation' | 'send_statement' | 'approve_reply'>,
  string
> = {
  claim: 'Only the care team can claim cases. Ask a care-team member in the thread, or escalate.',
  unclaim: 'Only the care team can unclaim cases.',
  reply: 'Only the care team answers customers; write a note in the thread instead.',
  move_to_dm: 'Only the care team can move a case to DM.',
  resolve: 'Only the care team can resolve cases.',
  reopen: 'Only the care team can reopen cases.',
  priority: 'Only the care team can change the priority of a case.',
  escalate: 'Only the care team can escalate cases; ask the case owner in the thread.',
  take_over: 'Only the care team can take over cases.',
  wait: 'Only the care team can mark a case as waiting on the customer, or end the wait.',
  customer: "Only the care team can link customers, change a customer's note or mark them VIP.",
  saved_replies: 'Only the care managers can add, change or delete saved replies.',
  incident: 'Only the care team and the managers can open, change or resolve incidents.',
  crisis_mode:
    'Only the care team, the managers and the escalation teams can turn crisis mode on or off: it changes every new deadline and the care channel.',
  stats: 'Only the care managers can see these figures.',
  forget: 'Only the care managers can erase what a customer wrote (`/care forget`).',
};

/**
 * What is known of a resolved case when carebot considers asking its customer how it went: the one
 * message carebot sends by itself (docs/features/csat.md), so it is decided here like every other
 * message that reaches a customer.
 */
export interface RatingQuestionFacts {
  /** `csat.enabled`. */
  enabled: boolean;
  /** The conversation is private (an X DM, Messenger, an Instagram DM, a Mastodon direct mention). */
  direct: boolean;
  /** carebot can write to the customer on this platform at all. */
  canMessage: boolean;
  /** The customer's words were erased (`/care forget` or retention). */
  forgotten: boolean;
  /** The case was asked before (once per case, ever). */
  alreadyAsked: boolean;
}

export type RatingQuestionDecision =
  | { allowed: true }
  | { allowed: false; reason: 'disabled' | 'public' | 'forgotten' | 'already_asked' };

/** Whether carebot may ask this case's customer how it went. Anything unsure refuses. */
export function mayAskForRating(facts: RatingQuestionFacts): RatingQuestionDecision {
  if (!facts.enabled) return { allowed: false, reason: 'disabled' };
  if (facts.forgotten) return { allowed: false, reason: 'forgotten' };
  if (!facts.direct || !facts.canMessage) return { allowed: false, reason: 'public' };
  if (facts.alreadyAsked) return { allowed: false, reason: 'already_asked' };
  return { allowed: true };
}

class LookupFailed extends Error {}

export class Permissions {
  constructor(
    private readonly directory: Directory,
    private readonly settings: PermissionSettings,
    private readonly onLookupFailure: (err: unknown, what: string) => void = () => {},
  ) {}

  /** Whether the care team is a user group, or (unset) every full member of the workspace. */
  get careTeamIsWorkspace(): boolean {
    return !this.settings.careTeamUsergroup;
  }

  async check(actor: Actor, permission: Permission): Promise<Decision> {
    try {
      if (!(await this.decide(actor, permission)))
        return { allowed: false, reason: 'not_permitted', message: this.refusal(actor, permission) };
      if (permission.action === 'reply' && (await this.isTrainee(actor))) return NEEDS_APPROVAL;
      return ALLOWED;
    } catch (err) {
      if (!(err instanceof LookupFailed)) throw err;
      return { allowed: false, reason: 'lookup_failed', message: LOOKUP_FAILED_TEXT };
    }
  }

  /**
   * The configured teams a person belongs to, for showing them their escalations. Not a permission:
   * a team whose group cannot be read is left out of the list.
   */
  async teamsOf(userId: string): Promise<string[]> {
    const keys: string[] = [];
    for (const team of this.settings.teams) {
      try {
        if (await this.inTeam(team, userId)) keys.push(team.key);
      } catch (err) {
        if (!(err instanceof LookupFailed)) throw err;
      }
    }
    return keys;
  }

  private refusal(actor: Actor, permission: Permission): string {
    switch (permission.action) {
      case 'note':
        return '';
      case 'approve_reply':
        return permission.authorId === actor.userId
          ? SELF_APPROVAL_TEXT
          : 'Only the reply approvers can approve, edit or reject a trainee’s reply.';
      case 'escalation': {
        const team = this.team(permission.teamKey);
        return `Only ${team.name} can acknowledge or answer this escalation (or the care team); it is waiting for them.`;
      }
      case 'send_statement':
        return `Only the incident's lead, <@${permission.leadId}>, sends its statement. Change the lead with Edit.`;
      default:
        return REFUSALS[permission.action];
    }
  }

  private async decide(actor: Actor, permission: Permission): Promise<boolean> {
    switch (permission.action) {
      case 'note':
        return true;
      case 'escalation':
        // An escalation's answer stays inside Slack, in the case thread: the team need not be staff.
        if (await this.inTeam(this.team(permission.teamKey), actor.userId)) return true;
        return this.isCareTeam(actor);
      case 'saved_replies':
      case 'stats':
      case 'forget':
        return this.isManager(actor, { careTeamWhenUnset: true });
      case 'incident':
        return (await this.isCareTeam(actor)) || (await this.isManager(actor, { careTeamWhenUnset: false }));
      case 'send_statement':
        if (permission.leadId !== actor.userId) return false;
        return this.decide(actor, { action: 'incident' });
      case 'crisis_mode':
        if (await this.isCareTeam(actor)) return true;
        if (await this.isManager(actor, { careTeamWhenUnset: false })) return true;
        if (!(await this.isFullMember(actor))) return false;
        for (const team of this.settings.teams) {
          if (await this.inTeam(team, actor.userId)) return true;
        }
        return false;
      case 'approve_reply': {
        // Nobody approves their own reply, whatever groups they are in.
        if (permission.authorId === actor.userId) return false;
        const group = this.settings.approval?.approversUsergroup;
        if (!group) return false;
        if (!(await this.isFullMember(actor))) return false;
        return (await this.members(group)).has(actor.userId);
      }
      default:
        return this.isCareTeam(actor);
    }
  }

  /**
   * The care team: members of `care_team_usergroup`; when it is unset, every full member of the
   * installation's workspace except the members of escalation teams (PR, product… answer through
   * the case owner). Guests and people from other organisations never are.
   */
  private async isCareTeam(actor: Actor): Promise<boolean> {
    if (!(await this.isFullMember(actor))) return false;
    const group = this.settings.careTeamUsergroup;
    if (group) return (await this.members(group)).has(actor.userId);
    for (const team of this.settings.teams) {
      if (await this.inTeam(team, actor.userId)) return false;
    }
    return true;
  }

  /**
   * In training: a member of `approval.trainees_usergroup`. Asked for every reply while the group
   * is set, and a failed lookup refuses the reply (it is never sent unapproved).
   */
  private async isTrainee(actor: Actor): Promise<boolean> {
    const group = this.settings.approval?.traineesUsergroup;
    if (!group) return false;
    return (await this.members(group)).has(actor.userId);
  }

  private async isManager(actor: Actor, opts: { careTeamWhenUnset: boolean }): Promise<boolean> {
    const group = this.settings.managersUsergroup;
    if (!group) return opts.careTeamWhenUnset ? this.isCareTeam(actor) : false;
    if (!(await this.isFullMember(actor))) return false;
    return (await this.members(group)).has(actor.userId);
  }

  /** Not a guest, not a bot, not deleted, and of the installation's own workspace. */
  private async isFullMember(actor: Actor): Promise<boolean> {
    const [person, home] = await Promise.all([
      this.lookup(() => this.directory.person(actor.userId), 'user'),
      this.lookup(() => this.directory.installationTeamId(), 'installation'),
    ]);
    if (person.guest || person.deleted || person.bot) return false;
    if (person.teamId !== home) return false;
    if (actor.teamId !== undefined && actor.teamId !== home) return false;
    return true;
  }

  private async inTeam(team: Team, userId: string): Promise<boolean> {
    if (team.users?.includes(userId)) return true;
    if (team.usergroup) return (await this.members(team.usergroup)).has(userId);
    return false;
  }

  private members(group: string): Promise<ReadonlySet<string>> {
    return this.lookup(() => this.directory.members(group), 'usergroup');
  }

  private team(key: string): Team {
    return teamByKey(this.settings.teams, key);
  }

  private async lookup<T>(fn: () => Promise<T>, what: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.onLookupFailure(err, what);
      throw new LookupFailed(what);
    }
  }
}
