import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  blockActionPayload,
  postSlackInteraction,
  postSlashCommand,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { caseEvents, cases, escalations } from '../../src/db/schema.js';
import {
  blocksOf,
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const configDir = mkdtempSync(join(tmpdir(), 'carebot-test-'));
const configPath = join(configDir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'teams:',
    '  - { key: pr, name: PR, usergroup: S0PR00001 }',
    '  - { key: product, name: Product, users: [U0PM00001] }',
  ].join('\n'),
);

async function postedCase(t: TestCarebot): Promise<{ ts: string }> {
  await postWebhook(t, complaint({ id: 'm1', conversationId: 'c1' }));
  await sync(t);
  const post = t.slack.callsTo('chat.postMessage')[0];
  return { ts: tsOf(post) };
}

function click(t: TestCarebot, actionId: string, userId: string, ts: string, value = '1') {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({ actionId, value, userId, channelId: CARE_CHANNEL, messageTs: ts }),
  );
}

const buttonsOf = (call: { params: Record<string, unknown> } | undefined) =>
  (blocksOf(call).find((b) => b.type === 'actions')?.elements ?? []).map((e) => e.action_id);

describe('claim, unclaim and escalate', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });

  it('claim updates the card in place to show the owner and offers Unclaim', async () => {
    const t = carebot();
    const { ts } = await postedCase(t);
    const res = await click(t, 'case_claim', 'U0AGENT001', ts);
    expect(res.status).toBe(200);
    // Slack gets its ack first; the claim and the card update follow.
    const [update] = await t.slack.waitFor('chat.update');
    expect(update?.params).toMatchObject({ channel: CARE_CHANNEL, ts });
    expect(JSON.stringify(update?.params.blocks)).toContain('Claimed by <@U0AGENT001>');
    expect(buttonsOf(update)).toEqual([
      'case_unclaim',
      'case_reply',
      'case_escalate',
      'case_resolve',
      'case_priority',
    ]);
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    expect(row?.ownerId).toBe('U0AGENT001');
  });

  it('tells a second claimer, privately, who owns the case', async () => {
    const t = carebot();
    const { ts } = await postedCase(t);
    await click(t, 'case_claim', 'U0AGENT001', ts);
    await t.slack.waitFor('chat.update');
    await click(t, 'case_claim', 'U0AGENT002', ts);
    const [ephemeral] = await t.slack.waitFor('chat.postEphemeral');
    expect(ephemeral?.params).toMatchObject({ channel: CARE_CHANNEL, user: 'U0AGENT002' });
    expect(String(ephemeral?.params.text)).toContain('<@U0AGENT001> already owns case #1');
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    expect(row?.ownerId).toBe('U0AGENT001');
  });

  it('lets only the owner unclaim, and puts Claim back on the card', async () => {
    const t = carebot();
    const { ts } = await postedCase(t);
    await click(t, 'case_claim', 'U0AGENT001', ts);
    await t.slack.waitFor('chat.update');
    await click(t, 'case_unclaim', 'U0AGENT002', ts);
    const [refusal] = await t.slack.waitFor('chat.postEphemeral');
    expect(String(refusal?.params.text)).toContain('Only the owner, <@U0AGENT001>');
    await click(t, 'case_unclaim', 'U0AGENT001', ts);
    const updates = await t.slack.waitFor('chat.update', 2);
    expect(buttonsOf(updates.at(-1))).toEqual([
      'case_claim',
      'case_reply',
      'case_escalate',
      'case_resolve',
      'case_priority',
    ]);
    const log = await t.db.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.caseId, 1))
      .orderBy(asc(caseEvents.id));
    expect(log.filter((e) => !e.type.startsWith('sla_')).map((e) => [e.type, e.actor])).toEqual([
      ['opened', 'customer'],
      ['claimed', 'U0AGENT001'],
      ['unclaimed', 'U0AGENT001'],
    ]);
  });

  it('escalate opens a modal of the teams; submitting it mentions the team in the thread', async () => {
    const t = carebot();
    const { ts } = await postedCase(t);
    await click(t, 'case_escalate', 'U0AGENT001', ts);
    const [open] = await t.slack.waitFor('views.open');
    const view = open?.params.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe('case_escalate_submit');
    expect(view.private_metadata).toBe('1');
    expect(JSON.stringify(view.blocks)).toContain('"value":"pr"');

    const submission = viewSubmissionPayload({
      callbackId: 'case_escalate_submit',
      userId: 'U0AGENT001',
      privateMetadata: '1',
      values: {
        escalate_team: { team: { type: 'static_select', selected_option: { value: 'pr' } } },
        escalate_note: { note: 'Customer threatens to go to the press <!channel>' },
      },
    });
    const res = await postSlackInteraction(t.url, SIGNING_SECRET, submission);
    expect(res.status).toBe(200);
    await t.slack.waitFor('chat.postMessage', 2);
    await t.slack.waitFor('chat.update');
    const mention = t.slack.callsTo('chat.postMessage').find((c) => c.params.thread_ts === ts);
    expect(String(mention?.params.text)).toContain('<!subteam^S0PR00001>');
    expect(String(mention?.params.text)).toContain('&lt;!channel&gt;');
    const [update] = t.slack.callsTo('chat.update');
    expect(JSON.stringify(update?.params.blocks)).toContain('Escalated to PR');
    const [esc] = await t.db.db.select().from(escalations);
    expect(esc).toMatchObject({ caseId: 1, teamKey: 'pr', requestedBy: 'U0AGENT001' });
    // Slack resending the same submission changes nothing.
    await postSlackInteraction(t.url, SIGNING_SECRET, submission);
    await sync(t);
    expect(await t.db.db.select().from(escalations)).toHaveLength(1);
    expect(t.slack.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === ts)).toHaveLength(1);
  });

  it('refuses an escalation without a note, naming the field in the modal', async () => {
    const t = carebot();
    await postedCase(t);
    const res = await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      viewSubmissionPayload({
        callbackId: 'case_escalate_submit',
        userId: 'U0AGENT001',
        privateMetadata: '1',
        values: {
          escalate_team: { team: { type: 'static_select', selected_option: { value: 'pr' } } },
          escalate_note: { note: '   ' },
        },
      }),
    );
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { escalate_note: expect.any(String) },
    });
    expect(await t.db.db.select().from(escalations)).toHaveLength(0);
  });

  it('rejects Slack requests with a bad signature', async () => {
    const t = carebot();
    const { ts } = await postedCase(t);
    const res = await postSlackInteraction(
      t.url,
      'not-the-signing-secret',
      blockActionPayload({
        actionId: 'case_claim',
        value: '1',
        userId: 'U0AGENT001',
        channelId: CARE_CHANNEL,
        messageTs: ts,
      }),
    );
    expect(res.status).toBe(401);
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, 1));
    expect(row?.ownerId).toBeNull();
  });

  it('answers /care-stats with the queue', async () => {
    const t = carebot();
    await postedCase(t);
    const res = await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care-stats',
      user_id: 'U0MANAGER1',
      response_url: t.slack.responseUrl('stats'),
    });
    expect(res.status).toBe(200);
    const [answer] = await t.slack.waitFor('response_url');
    expect(String(answer?.params.text)).toContain('Open: 1 (1 unclaimed, 0 claimed');
  });
});
