import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import {
  type Actor,
  LOOKUP_FAILED_TEXT,
  type Permission,
  type PermissionSettings,
  Permissions,
  SELF_APPROVAL_TEXT,
} from '../../src/care/permissions.js';
import { createLogger } from '../../src/logger.js';
import { People } from '../../src/slack/people.js';

/** The DESIGN.md table, asked through the policy with Slack's answers coming from the fake Web API. */

const CARE = 'S0CARE0001';
const MANAGERS = 'S0MGRS0001';
const PR_GROUP = 'S0PR000001';

const AGENT = 'U0AGENT001';
const MANAGER = 'U0MANAGER1';
const PR = 'U0PR000001';
const LEGAL = 'U0LEGAL001';
const STAFF = 'U0STAFF001';
const GUEST = 'U0GUEST001';
const SC_GUEST = 'U0GUEST002';
const PARTNER = 'U0PARTNER1';

let slack: FakeSlack;

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.usergroupMembers.set(CARE, [AGENT, GUEST, SC_GUEST, PARTNER]);
  slack.usergroupMembers.set(MANAGERS, [MANAGER]);
  slack.usergroupMembers.set(PR_GROUP, [PR]);
  slack.users.set(GUEST, { id: GUEST, name: 'guest', is_restricted: true });
  slack.users.set(SC_GUEST, { id: SC_GUEST, name: 'single', is_ultra_restricted: true });
  slack.users.set(PARTNER, { id: PARTNER, name: 'partner', team_id: 'T0OTHERORG' });
});
afterAll(() => slack.close());

function policy(settings: Partial<PermissionSettings> = {}): Permissions {
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  const people = new People(client, createLogger('silent'));
  return new Permissions(people, {
    careTeamUsergroup: CARE,
    managersUsergroup: MANAGERS,
    teams: [
      { key: 'pr', name: 'PR', usergroup: PR_GROUP },
      { key: 'legal', name: 'Legal', users: [LEGAL] },
    ],
    ...settings,
  });
}

async function who(p: Permissions, permission: Permission, people: string[]): Promise<string[]> {
  const allowed: string[] = [];
  for (const userId of people) {
    if ((await p.check({ userId }, permission)).allowed) allowed.push(userId);
  }
  return allowed;
}

const EVERYONE = [AGENT, MANAGER, PR, LEGAL, STAFF, GUEST, SC_GUEST, PARTNER];

describe('the permission table', () => {
  it('care actions: the care team only; guests and other organisations never, whatever their groups', async () => {
    const p = policy();
    for (const action of [
      'claim',
      'unclaim',
      'reply',
      'move_to_dm',
      'resolve',
      'reopen',
      'priority',
      'escalate',
      'take_over',
    ] as const) {
      expect(await who(p, { action }, EVERYONE), action).toEqual([AGENT]);
    }
  });

  it('notes: anyone', async () => {
    expect(await who(policy(), { action: 'note' }, EVERYONE)).toEqual(EVERYONE);
  });

  it('escalations: the escalated team and the care team', async () => {
    const p = policy();
    expect(await who(p, { action: 'escalation', teamKey: 'pr' }, EVERYONE)).toEqual([AGENT, PR]);
    expect(await who(p, { action: 'escalation', teamKey: 'legal' }, EVERYONE)).toEqual([AGENT, LEGAL]);
  });

  it('saved replies and /care-stats: the managers; the care team when no managers group is set', async () => {
    expect(await who(policy(), { action: 'saved_replies' }, EVERYONE)).toEqual([MANAGER]);
    expect(await who(policy(), { action: 'stats' }, EVERYONE)).toEqual([MANAGER]);
    const noManagers = policy({ managersUsergroup: null });
    expect(await who(noManagers, { action: 'saved_replies' }, EVERYONE)).toEqual([AGENT]);
    expect(await who(noManagers, { action: 'stats' }, EVERYONE)).toEqual([AGENT]);
  });

  it('/care forget: the managers; the care team when no managers group is set; guests never', async () => {
    expect(await who(policy(), { action: 'forget' }, EVERYONE)).toEqual([MANAGER]);
    expect(await who(policy({ managersUsergroup: null }), { action: 'forget' }, EVERYONE)).toEqual([AGENT]);
    // A guest or a Slack Connect user put in the managers group still may not.
    const guestsInManagers = policy({ managersUsergroup: CARE });
    expect(await who(guestsInManagers, { action: 'forget' }, EVERYONE)).toEqual([AGENT]);
  });

  it('incidents: the care team and the managers; the statement: its lead, if they may', async () => {
    const p = policy();
    expect(await who(p, { action: 'incident' }, EVERYONE)).toEqual([AGENT, MANAGER]);
    expect(await who(p, { action: 'send_statement', leadId: MANAGER }, EVERYONE)).toEqual([MANAGER]);
    // A guest made lead still cannot send.
    expect(await who(p, { action: 'send_statement', leadId: GUEST }, EVERYONE)).toEqual([]);
  });

  it('crisis mode: the care team, the managers and the escalation teams', async () => {
    expect(await who(policy(), { action: 'crisis_mode' }, EVERYONE)).toEqual([AGENT, MANAGER, PR, LEGAL]);
  });

  it('without a care-team group: every full member of the workspace except escalation teams', async () => {
    const p = policy({ careTeamUsergroup: null });
    expect(p.careTeamIsWorkspace).toBe(true);
    expect(await who(p, { action: 'reply' }, EVERYONE)).toEqual([AGENT, MANAGER, STAFF]);
  });

  it('a payload saying the person is from another team is believed over users.info', async () => {
    const actor: Actor = { userId: AGENT, teamId: 'T0OTHERORG' };
    expect((await policy().check(actor, { action: 'reply' })).allowed).toBe(false);
  });

  it('a failed lookup refuses with "could not check", and is not remembered', async () => {
    const p = policy();
    slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    expect(await p.check({ userId: AGENT }, { action: 'claim' })).toEqual({
      allowed: false,
      reason: 'lookup_failed',
      message: LOOKUP_FAILED_TEXT,
    });
    expect((await p.check({ userId: AGENT }, { action: 'claim' })).allowed).toBe(true);
    slack.failNext('users.info', { status: 500 });
    expect((await policy().check({ userId: AGENT }, { action: 'claim' })).allowed).toBe(false);
    // A group Slack says does not exist is empty: nobody is on that care team.
    const missing = policy({ careTeamUsergroup: 'S0NOSUCH01' });
    expect(await missing.check({ userId: AGENT }, { action: 'reply' })).toMatchObject({
      allowed: false,
      reason: 'not_permitted',
    });
  });
});

describe('reply approval', () => {
  const TRAINEES = 'S0TRAIN001';
  const APPROVERS = 'S0APPR0001';
  const TRAINEE = 'U0TRAINEE1';
  const SENIOR = 'U0SENIOR01';
  /** In training and an approver: may approve others' replies, never their own. */
  const BOTH = 'U0BOTH0001';
  const approval = { traineesUsergroup: TRAINEES, approversUsergroup: APPROVERS };

  beforeAll(() => {
    slack.usergroupMembers.set(CARE, [AGENT, GUEST, SC_GUEST, PARTNER, TRAINEE, SENIOR, BOTH]);
    slack.usergroupMembers.set(TRAINEES, [TRAINEE, BOTH]);
    slack.usergroupMembers.set(APPROVERS, [SENIOR, BOTH, GUEST, PARTNER]);
  });

  it("a trainee's reply is allowed only through approval; others' as before", async () => {
    const p = policy({ approval });
    expect(await p.check({ userId: TRAINEE }, { action: 'reply' })).toEqual({
      allowed: true,
      approval: 'required',
    });
    expect(await p.check({ userId: BOTH }, { action: 'reply' })).toEqual({
      allowed: true,
      approval: 'required',
    });
    expect(await p.check({ userId: SENIOR }, { action: 'reply' })).toEqual({ allowed: true });
    // Being in training gives nobody the right to answer: a trainee outside the care team is refused.
    slack.usergroupMembers.set(TRAINEES, [TRAINEE, BOTH, STAFF]);
    expect((await policy({ approval }).check({ userId: STAFF }, { action: 'reply' })).allowed).toBe(false);
    slack.usergroupMembers.set(TRAINEES, [TRAINEE, BOTH]);
    // Without approval configured nobody is in training.
    expect(await policy().check({ userId: TRAINEE }, { action: 'reply' })).toEqual({ allowed: true });
  });

  it('approve_reply: approvers only, never their own reply, never guests or other organisations', async () => {
    const p = policy({ approval });
    const ofTrainee = { action: 'approve_reply', authorId: TRAINEE } as const;
    expect(await who(p, ofTrainee, [...EVERYONE, TRAINEE, SENIOR, BOTH])).toEqual([SENIOR, BOTH]);
    expect(await p.check({ userId: BOTH }, { action: 'approve_reply', authorId: BOTH })).toEqual({
      allowed: false,
      reason: 'not_permitted',
      message: SELF_APPROVAL_TEXT,
    });
    // No approvers group: nobody approves.
    const none = policy({ approval: { traineesUsergroup: TRAINEES, approversUsergroup: null } });
    expect(await who(none, ofTrainee, [SENIOR, BOTH])).toEqual([]);
  });

  it('a failed lookup of the trainees group refuses the reply (never sent unapproved)', async () => {
    const p = policy({ careTeamUsergroup: null, teams: [], approval });
    // The care team (the workspace, no teams) needs no group: the one group read is the trainees'.
    slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    expect(await p.check({ userId: SENIOR }, { action: 'reply' })).toEqual({
      allowed: false,
      reason: 'lookup_failed',
      message: LOOKUP_FAILED_TEXT,
    });
    expect(slack.callsTo('usergroups.users.list').at(-1)?.params.usergroup).toBe(TRAINEES);
    expect(await p.check({ userId: SENIOR }, { action: 'reply' })).toEqual({ allowed: true });
  });
});
