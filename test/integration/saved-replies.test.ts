import { eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import {
  blockActionPayload,
  postSlackInteraction,
  postSlashCommand,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { FAKE_APP_ID, FAKE_TEAM_ID } from '../../emulators/slack/web-api.js';
import { seconds } from '../../src/care/clock.js';
import { replies, savedReplies } from '../../src/db/schema.js';
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

const AGENT = 'U0AGENT001';

function saveSaved(t: TestCarebot, title: string, text: string) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    viewSubmissionPayload({
      callbackId: 'saved_reply_save',
      userId: AGENT,
      values: { saved_title: { title }, saved_text: { text } },
    }),
  );
}

/** A select changed inside an open modal, as Slack reports it. */
function pickInModal(view: { id: string; private_metadata: string }, savedReplyId: number) {
  return {
    type: 'block_actions',
    user: { id: AGENT, username: 'agent', name: 'agent', team_id: FAKE_TEAM_ID },
    api_app_id: FAKE_APP_ID,
    token: 'fakeVerificationToken0000',
    container: { type: 'view', view_id: view.id },
    trigger_id: '1234567890.1234567890.abcdefabcdef',
    team: { id: FAKE_TEAM_ID, domain: 'carebot-test' },
    is_enterprise_install: false,
    view: {
      id: view.id,
      team_id: FAKE_TEAM_ID,
      type: 'modal',
      callback_id: 'case_reply_submit',
      private_metadata: view.private_metadata,
      hash: '1764000000.abcdefgh',
      state: { values: {} },
      blocks: [],
      app_id: FAKE_APP_ID,
    },
    actions: [
      {
        type: 'static_select',
        action_id: 'saved_reply_pick',
        block_id: 'reply_pick',
        selected_option: { text: { type: 'plain_text', text: 'Late parcel' }, value: String(savedReplyId) },
        action_ts: '1764000000.000100',
      },
    ],
  };
}

describe('saved replies', () => {
  const carebot = useCarebot();

  it('/care replies opens the list; the editor adds one and refuses a duplicate title', async () => {
    const t = carebot();
    const res = await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care',
      text: 'replies',
      user_id: AGENT,
    });
    expect(res.status).toBe(200);
    const [open] = await t.slack.waitFor('views.open');
    expect(JSON.stringify(open?.params.view)).toContain('No saved replies yet');
    expect((await saveSaved(t, 'Late parcel', 'Hi {first_name}, sorry!')).status).toBe(200);
    const dup = await saveSaved(t, 'late PARCEL', 'Again');
    expect(dup.json).toMatchObject({
      response_action: 'errors',
      errors: { saved_title: expect.any(String) },
    });
    const rows = await t.db.db.select().from(savedReplies);
    expect(rows.map((r) => r.title)).toEqual(['Late parcel']);
  });

  it('Reply on the card fills a saved reply for the customer and sends it through the undo window', async () => {
    const t = carebot();
    t.slack.users.set(AGENT, { id: AGENT, name: 'sam', real_name: 'Sam Agent' });
    await saveSaved(
      t,
      'Late parcel',
      'Hi {first_name}, I am {agent_name} and I am sorry your parcel is late (case {case_id}).',
    );
    const [saved] = await t.db.db.select().from(savedReplies);
    await postWebhook(t, complaint({ id: 'm1', conversationId: 'c1' }));
    await sync(t);
    const threadTs = tsOf(t.slack.callsTo('chat.postMessage')[0]);

    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      blockActionPayload({
        actionId: 'case_reply',
        value: '1',
        userId: AGENT,
        channelId: CARE_CHANNEL,
        messageTs: threadTs,
      }),
    );
    const [open] = await t.slack.waitFor('views.open');
    const modal = open?.params.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(modal.callback_id).toBe('case_reply_submit');
    expect(JSON.stringify(modal.blocks)).toContain('Late parcel');

    const viewId = String((open?.response?.view as { id?: string } | undefined)?.id);
    await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      pickInModal({ id: viewId, private_metadata: modal.private_metadata }, saved?.id ?? 0),
    );
    const [update] = await t.slack.waitFor('views.update');
    const filled = 'Hi Jane, I am sam and I am sorry your parcel is late (case 1).';
    expect(JSON.stringify(update?.params.view)).toContain(filled);
    const updated = update?.params.view as { private_metadata: string };

    const submit = await postSlackInteraction(
      t.url,
      SIGNING_SECRET,
      viewSubmissionPayload({
        callbackId: 'case_reply_submit',
        userId: AGENT,
        viewId,
        privateMetadata: updated.private_metadata,
        values: { [`reply_text:${saved?.id}`]: { text: `${filled} Thanks for your patience.` } },
      }),
    );
    expect(submit.status).toBe(200);
    const [notice] = await t.slack.waitFor('chat.postEphemeral');
    expect(notice?.params).toMatchObject({ user: AGENT, thread_ts: threadTs });
    const [reply] = await vi.waitFor(async () => {
      const rows = await t.db.db.select().from(replies);
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(reply?.savedReplyId).toBe(saved?.id);
    // The modal's submitter claimed the unclaimed case by answering.
    t.clock.advance(seconds(11));
    await deliver(t);
    await sync(t);
    expect(t.receiver.received.map((r) => r.body.text)).toEqual([`${filled} Thanks for your patience.`]);
    const [after] = await t.db.db
      .select()
      .from(savedReplies)
      .where(eq(savedReplies.id, saved?.id ?? 0));
    expect(after?.uses).toBe(1);
    // A modal reply has no Slack message of its own, so the ✅ line quotes what was sent.
    const sentLine = t.slack
      .callsTo('chat.postMessage')
      .find((c) => JSON.stringify(c.params.blocks).includes('Sent to forum'));
    expect(JSON.stringify(sentLine?.params.blocks)).toContain('Thanks for your patience.');
  });
});
