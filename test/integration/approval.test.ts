import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ephemeralsFor,
  postMessageDelete,
  postMessageEdit,
  postThreadMessage,
} from '../../emulators/slack/events.js';
import {
  blockActionPayload,
  postSlackInteraction,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { approveReply } from '../../src/care/approval.js';
import { seconds } from '../../src/care/clock.js';
import { LOOKUP_FAILED_TEXT, SELF_APPROVAL_TEXT } from '../../src/care/permissions.js';
import { caseEvents, cases, replies } from '../../src/db/schema.js';
import { LIMITS } from '../../src/slack/limits.js';
import {
  CARE_CHANNEL,
  complaint,
  deliver,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  tsOf,
  useCarebot,
} from '../support/carebot.js';

const TRAINEES = 'S0TRAIN001';
const APPROVERS = 'S0APPR0001';
const TRAINEE = 'U0TRAINEE1';
/** In training and an approver: approves others' replies, never their own. */
const BOTH = 'U0BOTH0001';
const APPROVER = 'U0APPROVE1';
const APPROVER_2 = 'U0APPROVE2';
const AGENT = 'U0AGENT001';
const GUEST = 'U0GUEST001';

function configFile(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'carebot-approval-')), 'carebot.config.yaml');
  writeFileSync(path, [...lines, 'reply_delay: 10s', ''].join('\n'));
  return path;
}

const config = configFile([
  `approval: { trainees_usergroup: ${TRAINEES}, approvers_usergroup: ${APPROVERS} }`,
]);

/** The same groups in every test: carebot caches a group's members for a few minutes. */
function groups(t: TestCarebot) {
  t.slack.usergroupMembers.set(TRAINEES, [TRAINEE, BOTH]);
  t.slack.usergroupMembers.set(APPROVERS, [APPROVER, APPROVER_2, BOTH, GUEST]);
  t.slack.users.set(GUEST, { id: GUEST, name: 'guest', is_restricted: true });
}

async function openCase(t: TestCarebot, conversationId = 't-1'): Promise<string> {
  await postWebhook(t, complaint({ id: `m-${conversationId}`, conversationId }));
  await sync(t);
  return tsOf(t.slack.callsTo('chat.postMessage')[0]);
}

const say = (t: TestCarebot, threadTs: string, user: string, text: string) =>
  postThreadMessage(t.url, SIGNING_SECRET, { channel: CARE_CHANNEL, threadTs, user, text });

const replyRows = (t: TestCarebot) => t.db.db.select().from(replies).orderBy(asc(replies.id));

async function replyIs(t: TestCarebot, id: number, status: string) {
  await vi.waitFor(async () => {
    const [row] = await t.db.db.select().from(replies).where(eq(replies.id, id));
    expect(row?.status).toBe(status);
  });
}

/** The approval messages posted in the thread (with their buttons), oldest first. */
function approvalMessages(t: TestCarebot, threadTs: string) {
  return t.slack
    .callsTo('chat.postMessage')
    .filter(
      (c) => c.params.thread_ts === threadTs && JSON.stringify(c.params.blocks).includes('reply_approve'),
    );
}

/** A trainee's thread reply, held: waits until carebot has it and has posted its approval message. */
async function draft(t: TestCarebot, threadTs: string, text: string, user = TRAINEE) {
  const before = approvalMessages(t, threadTs).length;
  await say(t, threadTs, user, text);
  await vi.waitFor(async () => {
    await sync(t);
    expect(approvalMessages(t, threadTs).length).toBe(before + 1);
  });
  const message = approvalMessages(t, threadTs).at(-1);
  const rows = await replyRows(t);
  return { id: rows.at(-1)?.id as number, ts: tsOf(message), message };
}

function press(
  t: TestCarebot,
  actionId: string,
  replyId: number,
  userId: string,
  at: { ts: string; threadTs: string },
) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId,
      value: String(replyId),
      userId,
      channelId: CARE_CHANNEL,
      messageTs: at.ts,
      threadTs: at.threadTs,
    }),
  );
}

const submit = (
  t: TestCarebot,
  callbackId: string,
  userId: string,
  privateMetadata: string,
  values: Record<string, Record<string, string>>,
) =>
  postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    viewSubmissionPayload({ callbackId, userId, privateMetadata, values }),
  );

/** What the thread said to or about someone, as posted text and blocks. */
const threadText = (t: TestCarebot, threadTs: string) =>
  t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.params.thread_ts === threadTs)
    .map((c) => `${String(c.params.text)} ${JSON.stringify(c.params.blocks ?? [])}`)
    .join('\n');

const ephemeralText = (t: TestCarebot, user: string) =>
  ephemeralsFor(t.slack, user)
    .map((c) => `${String(c.params.text)} ${JSON.stringify(c.params.blocks ?? [])}`)
    .join('\n');

/** Lets the undo window pass and runs delivery and the Slack sync. */
async function afterWindow(t: TestCarebot) {
  t.clock.advance(seconds(11));
  await deliver(t);
  await sync(t);
}

describe('reply approval for people in training', () => {
  const carebot = useCarebot({ CARE_CONFIG: config });
  beforeEach(() => groups(carebot()));

  it('holds a trainee’s reply, asks the approvers, and sends it once after Approve and the undo window', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const { id, ts, message } = await draft(t, threadTs, 'So sorry, a new parcel leaves today.');
    // The approvers are mentioned in the thread, with the draft and the three buttons.
    expect(String(JSON.stringify(message?.params.blocks))).toContain(`<!subteam^${APPROVERS}>`);
    expect(JSON.stringify(message?.params.blocks)).toContain('So sorry, a new parcel leaves today.');
    for (const action of ['reply_approve', 'reply_edit', 'reply_reject'])
      expect(JSON.stringify(message?.params.blocks)).toContain(action);
    await vi.waitFor(() => expect(ephemeralText(t, TRAINEE)).toContain('waits for approval'));
    // The trainee claimed the case by answering it, as any care-team member does.
    const [caseRow] = await t.db.db.select().from(cases);
    expect(caseRow?.ownerId).toBe(TRAINEE);

    // Unapproved, nothing ever leaves.
    t.clock.advance(seconds(3600));
    await deliver(t);
    expect(t.receiver.received).toHaveLength(0);

    await press(t, 'reply_approve', id, APPROVER, { ts, threadTs });
    await replyIs(t, id, 'pending');
    // The undo window starts at approval; its Cancel is the approver's.
    await vi.waitFor(() => expect(ephemeralText(t, APPROVER)).toContain('reply_cancel'));
    t.clock.advance(seconds(5));
    await deliver(t);
    expect(t.receiver.received).toHaveLength(0);
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
    expect(t.receiver.received[0]?.body).toMatchObject({
      text: 'So sorry, a new parcel leaves today.',
      agent: { id: TRAINEE },
    });
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);

    // The trainee is told in the thread, and the approval message shows the outcome instead of buttons.
    await sync(t);
    expect(threadText(t, threadTs)).toContain(`<@${TRAINEE}> your reply was approved by <@${APPROVER}>`);
    const update = t.slack.callsTo('chat.update').find((c) => c.params.ts === ts);
    expect(JSON.stringify(update?.params.blocks)).toContain(`Approved by <@${APPROVER}>`);
    expect(JSON.stringify(update?.params.blocks)).not.toContain('reply_approve');
    const types = (await t.db.db.select().from(caseEvents)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['reply_awaiting_approval', 'reply_approved', 'reply_sent']),
    );

    // A stale click after the decision changes nothing and says who decided.
    await press(t, 'reply_approve', id, APPROVER_2, { ts, threadTs });
    await vi.waitFor(() =>
      expect(ephemeralText(t, APPROVER_2)).toContain(`Already approved by <@${APPROVER}>`),
    );
    expect(t.receiver.received).toHaveLength(1);
  });

  it('Edit: the approver’s text is what leaves, after the tone check', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const { id, ts } = await draft(t, threadTs, 'sorry bout that');
    await press(t, 'reply_edit', id, APPROVER, { ts, threadTs });
    const [open] = await t.slack.waitFor('views.open');
    const view = open?.params.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('reply_approval_edit');
    expect(JSON.stringify(view)).toContain('"initial_value":"sorry bout that"');

    // An edit that fails the tone check is held for the approver, who sends it anyway or cancels.
    const held = await submit(t, view.callback_id, APPROVER, view.private_metadata, {
      approval_text: { text: 'Sorry! Use promo code SORRY for 10% off.' },
    });
    expect(held.status).toBe(200);
    await replyIs(t, id, 'held');
    await vi.waitFor(() => expect(ephemeralText(t, APPROVER)).toContain('reply_send_anyway'));
    // Only the approver answers for it now: the trainee cannot send it anyway.
    await press(t, 'reply_send_anyway', id, TRAINEE, { ts, threadTs });
    await vi.waitFor(() => expect(ephemeralText(t, TRAINEE)).toContain(SELF_APPROVAL_TEXT));
    await replyIs(t, id, 'held');
    await press(t, 'reply_cancel', id, APPROVER, { ts, threadTs });
    await replyIs(t, id, 'cancelled');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);

    // A second draft, edited into a clean text: that text leaves.
    const second = await draft(t, threadTs, 'sorry bout that, again');
    await press(t, 'reply_edit', second.id, APPROVER, { ts: second.ts, threadTs });
    const [, reopen] = await t.slack.waitFor('views.open', 2);
    const view2 = reopen?.params.view as { callback_id: string; private_metadata: string };
    await submit(t, view2.callback_id, APPROVER, view2.private_metadata, {
      approval_text: { text: 'Sorry about that: a new parcel leaves today.' },
    });
    await replyIs(t, second.id, 'pending');
    await afterWindow(t);
    expect(t.receiver.received.map((r) => (r.body as { text: string }).text)).toEqual([
      'Sorry about that: a new parcel leaves today.',
    ]);
    expect(threadText(t, threadTs)).toContain('your reply was approved by');
    expect(threadText(t, threadTs)).toContain('with edits');
  });

  it('Reject with a note: never leaves, the trainee reads the note escaped, and Approve afterwards is refused', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const { id, ts } = await draft(t, threadTs, 'Not our problem, ask the courier.');
    await press(t, 'reply_reject', id, APPROVER, { ts, threadTs });
    const [open] = await t.slack.waitFor('views.open');
    const view = open?.params.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('reply_approval_reject');
    await submit(t, view.callback_id, APPROVER, view.private_metadata, {
      approval_note: { note: 'Own it <!channel> & say what we do <@U0AGENT001>' },
    });
    await replyIs(t, id, 'rejected');
    await afterWindow(t);
    t.clock.advance(seconds(3600));
    await deliver(t);
    expect(t.receiver.received).toHaveLength(0);
    const thread = threadText(t, threadTs);
    expect(thread).toContain(`<@${TRAINEE}> your reply was not approved by <@${APPROVER}>`);
    expect(thread).toContain('Own it &lt;!channel&gt; &amp; say what we do &lt;@U0AGENT001&gt;');
    expect(thread).not.toContain('<!channel>');

    await press(t, 'reply_approve', id, APPROVER_2, { ts, threadTs });
    await vi.waitFor(() =>
      expect(ephemeralText(t, APPROVER_2)).toContain(`Already rejected by <@${APPROVER}>`),
    );
    await replyIs(t, id, 'rejected');
    const update = t.slack.callsTo('chat.update').find((c) => c.params.ts === ts);
    expect(JSON.stringify(update?.params.blocks)).toContain('Rejected by');
  });

  it('flags two drafts in one case, and approving one does not send the other', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const first = await draft(t, threadTs, 'First try.');
    expect(JSON.stringify(first.message?.params.blocks)).not.toContain('drafts waiting');
    const second = await draft(t, threadTs, 'Second try.');
    expect(JSON.stringify(second.message?.params.blocks)).toContain(
      '2 drafts waiting for approval in this case',
    );
    await press(
      t,
      'reply_approve',
      first.id,
      APPROVER,
      first.message ? { ts: first.ts, threadTs } : { ts: '', threadTs },
    );
    await replyIs(t, first.id, 'pending');
    await vi.waitFor(() =>
      expect(ephemeralText(t, APPROVER)).toContain('1 more draft waits for approval in this case'),
    );
    await afterWindow(t);
    await afterWindow(t);
    expect(t.receiver.received.map((r) => (r.body as { text: string }).text)).toEqual(['First try.']);
    await replyIs(t, second.id, 'awaiting_approval');
  });

  it('refuses self-approval, non-approvers and guests; the draft keeps waiting', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const own = await draft(t, threadTs, 'Written by someone who also approves.', BOTH);
    await press(t, 'reply_approve', own.id, BOTH, { ts: own.ts, threadTs });
    await vi.waitFor(() => expect(ephemeralText(t, BOTH)).toContain(SELF_APPROVAL_TEXT));
    await press(t, 'reply_approve', own.id, AGENT, { ts: own.ts, threadTs });
    await vi.waitFor(() => expect(ephemeralText(t, AGENT)).toContain('Only the reply approvers'));
    await press(t, 'reply_reject', own.id, GUEST, { ts: own.ts, threadTs });
    await vi.waitFor(() => expect(ephemeralText(t, GUEST)).toContain('Only the reply approvers'));
    // The modals are gated too: a crafted submission from a non-approver changes nothing.
    const forged = await submit(t, 'reply_approval_edit', AGENT, String(own.id), {
      approval_text: { text: 'Sneaky text' },
    });
    expect(forged.json).toMatchObject({ response_action: 'errors' });
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);
    await replyIs(t, own.id, 'awaiting_approval');
    // Someone else's approval works.
    await press(t, 'reply_approve', own.id, APPROVER, { ts: own.ts, threadTs });
    await replyIs(t, own.id, 'pending');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
  });

  it('a trainee’s reply from the Reply modal waits for approval too', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const res = await submit(t, 'case_reply_submit', TRAINEE, JSON.stringify({ caseId: 1 }), {
      'reply_text:0': { text: 'From the modal, {first_name}.' },
    });
    expect(res.status).toBe(200);
    await vi.waitFor(async () => {
      await sync(t);
      expect(approvalMessages(t, threadTs)).toHaveLength(1);
    });
    const [row] = await replyRows(t);
    expect(row).toMatchObject({ status: 'awaiting_approval', text: 'From the modal, Jane.' });
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);
    await press(t, 'reply_approve', row?.id as number, APPROVER, {
      ts: tsOf(approvalMessages(t, threadTs)[0]),
      threadTs,
    });
    await replyIs(t, row?.id as number, 'pending');
    await afterWindow(t);
    expect(t.receiver.received.map((r) => (r.body as { text: string }).text)).toEqual([
      'From the modal, Jane.',
    ]);
  });

  it('fits a hostile 10,000-character draft into the approval message, escaped', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    // Typed in Slack, `<!channel>` arrives as `&lt;!channel&gt;`: plain text that must stay inert.
    // 10,000 characters, cut between code points (a lone surrogate is refused at the door).
    const hostile = Array.from(`<!channel> <@U0AGENT001> & ${'Ünïcödé & <b> 👍🏽 '.repeat(600)}`)
      .slice(0, 10_000)
      .join('');
    const slackText = hostile.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect((await say(t, threadTs, TRAINEE, slackText)).status).toBe(200);
    await vi.waitFor(async () => {
      await sync(t);
      expect(approvalMessages(t, threadTs)).toHaveLength(1);
    });
    const [message] = approvalMessages(t, threadTs);
    const blocks = message?.params.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(message?.ok).toBe(true);
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    for (const b of blocks) expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(LIMITS.sectionText);
    const all = JSON.stringify(blocks);
    expect(all).toContain('&lt;!channel&gt; &lt;@U0AGENT001&gt; &amp;');
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<@U0AGENT001>');
    // The approvers see the whole draft, spread over sections: nothing of it is cut.
    const [row] = await replyRows(t);
    expect(row?.status).toBe('awaiting_approval');
    const quoted = blocks
      .filter((b) => b.type === 'section' && b.text?.text.startsWith('>'))
      .map((b) => (b.text?.text ?? '').slice(1))
      .join('')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    expect(quoted).toBe(row?.text);
    expect(row?.text.length).toBeGreaterThan(9_000);
    // Too long for the edit box: Edit says so instead of opening a cut draft.
    await press(t, 'reply_edit', row?.id as number, APPROVER, { ts: tsOf(message), threadTs });
    await vi.waitFor(() => expect(ephemeralText(t, APPROVER)).toContain('longer than the edit box'));
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
  });

  it('two approvers pressing at once send the reply once', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const { id, ts } = await draft(t, threadTs, 'Racing approvals.');
    await Promise.all([
      press(t, 'reply_approve', id, APPROVER, { ts, threadTs }),
      press(t, 'reply_approve', id, APPROVER_2, { ts, threadTs }),
    ]);
    await replyIs(t, id, 'pending');
    await vi.waitFor(() =>
      expect(`${ephemeralText(t, APPROVER)}\n${ephemeralText(t, APPROVER_2)}`).toContain(
        'Already approved by',
      ),
    );
    await afterWindow(t);
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
    const approvals = (await t.db.db.select().from(caseEvents)).filter((e) => e.type === 'reply_approved');
    expect(approvals).toHaveLength(1);
  });

  it('two runs of the approval itself racing on the database decide once', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const { id } = await draft(t, threadTs, 'Approved twice at once?');
    const run = (approverId: string) =>
      approveReply(t.db.db, t.clock, {
        replyId: id,
        approverId,
        findings: [],
        delay: seconds(10),
        slackText: () => 'approved',
      });
    const results = await Promise.all([run(APPROVER), run(APPROVER_2), run(APPROVER)]);
    expect(results.filter((r) => r.kind === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'decided')).toHaveLength(2);
  });

  it('the trainee cannot change an approved text by editing Slack, and deleting a draft withdraws it', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const first = await say(t, threadTs, TRAINEE, 'Approved as written.');
    await vi.waitFor(async () => {
      await sync(t);
      expect(approvalMessages(t, threadTs)).toHaveLength(1);
    });
    const [approved] = await replyRows(t);
    await press(t, 'reply_approve', approved?.id as number, APPROVER, {
      ts: tsOf(approvalMessages(t, threadTs)[0]),
      threadTs,
    });
    await replyIs(t, approved?.id as number, 'pending');
    await postMessageEdit(t.url, SIGNING_SECRET, {
      channel: CARE_CHANNEL,
      threadTs,
      user: TRAINEE,
      ts: first.ts,
      text: 'Something the approver never saw.',
      previousText: 'Approved as written.',
    });
    await vi.waitFor(() => expect(ephemeralText(t, TRAINEE)).toContain('does not change it'));
    await afterWindow(t);
    expect(t.receiver.received.map((r) => (r.body as { text: string }).text)).toEqual([
      'Approved as written.',
    ]);

    const second = await say(t, threadTs, TRAINEE, 'A draft I will take back.');
    await vi.waitFor(async () => expect(await replyRows(t)).toHaveLength(2));
    await postMessageDelete(t.url, SIGNING_SECRET, { channel: CARE_CHANNEL, ts: second.ts, threadTs });
    const [, withdrawn] = await replyRows(t);
    await replyIs(t, withdrawn?.id as number, 'cancelled');
    await sync(t);
    const update = t.slack
      .callsTo('chat.update')
      .find((c) => JSON.stringify(c.params.blocks).includes(`Withdrawn by <@${TRAINEE}>`));
    expect(update).toBeDefined();
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(1);
  });

  it('a resolved case is not answered by a stale Approve; Reject still works', async () => {
    const t = carebot();
    const threadTs = await openCase(t);
    const { id, ts } = await draft(t, threadTs, 'Late answer.');
    await t.db.db.update(cases).set({ status: 'resolved' }).where(eq(cases.id, 1));
    await press(t, 'reply_approve', id, APPROVER, { ts, threadTs });
    await vi.waitFor(() => expect(ephemeralText(t, APPROVER)).toContain('This case is resolved'));
    await replyIs(t, id, 'awaiting_approval');
    await press(t, 'reply_reject', id, APPROVER, { ts, threadTs });
    const [open] = await t.slack.waitFor('views.open');
    const view = open?.params.view as { callback_id: string; private_metadata: string };
    await submit(t, view.callback_id, APPROVER, view.private_metadata, { approval_note: { note: '' } });
    await replyIs(t, id, 'rejected');
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);
  });
});

describe('reply approval when the trainees group cannot be read', () => {
  const carebot = useCarebot({ CARE_CONFIG: config });

  it('refuses to send: the reply is kept as a note, never queued', async () => {
    const t = carebot();
    groups(t);
    const threadTs = await openCase(t);
    // The first group carebot reads for a reply is the trainees group (no care-team group is set).
    t.slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    await say(t, threadTs, APPROVER, 'Sent without knowing who is in training?');
    await vi.waitFor(() => expect(ephemeralText(t, APPROVER)).toContain(LOOKUP_FAILED_TEXT));
    expect(ephemeralText(t, APPROVER)).toContain('it was not sent to the customer');
    expect(await replyRows(t)).toHaveLength(0);
    await afterWindow(t);
    expect(t.receiver.received).toHaveLength(0);
  });
});
