import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { blockActionPayload, postSlackInteraction, postSlashCommand } from '../../emulators/slack/signing.js';
import { resolveCase } from '../../src/care/case-lifecycle.js';
import { claimCase } from '../../src/care/case-ownership.js';
import { hours } from '../../src/care/clock.js';
import { linkSamePerson } from '../../src/care/customers.js';
import { confirmedCase, REMOVED_TEXT } from '../../src/care/forget.js';
import { LOOKUP_FAILED_TEXT } from '../../src/care/permissions.js';
import { cases, customers, messages } from '../../src/db/schema.js';
import { CUSTOMER_NOTE_VIEW, SAME_PERSON_VIEW } from '../../src/slack/customers.js';
import { FORGET_VIEW } from '../../src/slack/forget.js';
import { LIMITS } from '../../src/slack/limits.js';
import {
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  useCarebot,
} from '../support/carebot.js';
import { cardTs, press, submit } from '../support/crisis.js';

const PR = 'S0PR000001';
const configDir = mkdtempSync(join(tmpdir(), 'carebot-customers-'));
const configPath = join(configDir, 'carebot.config.yaml');
writeFileSync(configPath, ['teams:', `  - { key: pr, name: PR, usergroup: ${PR} }`].join('\n'));

const AGENT = 'U0AGENT001';
const HOSTILE = '<!channel> <@U0BOSS0001> & <https://evil.example|click>';

let seq = 0;
/** A new conversation (so a new case) by `author` on the generic webhook source `source`. */
async function newCase(
  t: TestCarebot,
  author: { id: string; name?: string },
  opts: { source?: string; text?: string } = {},
): Promise<number> {
  seq += 1;
  const res = await postWebhook(
    t,
    complaint({
      id: `m-${seq}`,
      conversationId: `conv-${seq}`,
      source: opts.source ?? 'forum',
      author: { id: author.id, name: author.name ?? `Name ${author.id}` },
      text: opts.text ?? `Complaint number ${seq}`,
    }),
  );
  expect(res.status).toBe(202);
  return Number(res.json.caseId);
}

/** The latest card (post or update) of a case, as JSON text. */
function latestCard(t: TestCarebot, caseId: number): string {
  const ts = cardTs(t, caseId);
  const updates = t.slack
    .callsTo('chat.update')
    .filter((c) => c.params.ts === ts && c.params.channel === CARE_CHANNEL);
  const last = updates.at(-1) ?? t.slack.callsTo('chat.postMessage').find((c) => c.response?.ts === ts);
  return JSON.stringify(last?.params.blocks ?? []);
}

function menu(t: TestCarebot, caseId: number, item: 'link' | 'note', userId = AGENT) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_same_person',
      value: '',
      overflowOption: { text: item, value: `${item}:${caseId}` },
      userId,
      channelId: CARE_CHANNEL,
      messageTs: cardTs(t, caseId),
    }),
  );
}

async function lastViewOpened(t: TestCarebot, n: number): Promise<Record<string, unknown>> {
  const calls = await t.slack.waitFor('views.open', n);
  return calls[n - 1]?.params.view as Record<string, unknown>;
}

const errorsOf = (res: { json?: unknown }) =>
  JSON.stringify((res.json as { errors?: unknown } | undefined)?.errors ?? {});

/** Thread messages carebot posted in the thread of a case. */
const threadTexts = (t: TestCarebot, caseId: number) =>
  t.slack
    .callsTo('chat.postMessage')
    .filter((c) => c.params.thread_ts === cardTs(t, caseId))
    .map((c) => String(c.params.text ?? ''));

async function eventually(check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function linkViaModal(t: TestCarebot, caseId: number, otherCaseId: number, n: number) {
  await menu(t, caseId, 'link');
  const view = await lastViewOpened(t, n);
  expect(view.callback_id).toBe(SAME_PERSON_VIEW);
  return submit(t, SAME_PERSON_VIEW, AGENT, String(caseId), {
    same_person_case: { case_number: `#${otherCaseId}` },
  });
}

describe('know the customer', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });

  it('the card counts the author’s earlier cases and names the last outcome', async () => {
    const t = carebot();
    const jane = { id: 'u-jane' };
    const first = await newCase(t, jane);
    t.clock.advance(hours(72));
    const second = await newCase(t, jane);
    await newCase(t, { id: 'u-someone-else' });
    // The same id on another site is another person.
    await newCase(t, jane, { source: 'shop' });
    await resolveCase(t.db.db, t.clock, first, AGENT);
    await resolveCase(t.db.db, t.clock, second, AGENT);
    t.clock.advance(hours(288));
    const third = await newCase(t, jane);
    await sync(t);
    expect(latestCard(t, first)).not.toContain('earlier case');
    expect(latestCard(t, second)).toContain('1 earlier case, 3 days ago (resolved)');
    expect(latestCard(t, third)).toContain('2 earlier cases, last 12 days ago (resolved)');
    expect(latestCard(t, third)).toContain('"action_id":"case_history"');
    expect(latestCard(t, third)).toContain('"action_id":"case_same_person"');
    // A fourth while the third is open.
    const fourth = await newCase(t, jane);
    await sync(t);
    expect(latestCard(t, fourth)).toContain('3 earlier cases, last a minute ago (still open)');
  });

  it('History lists the other cases newest first: date, first words escaped, owner, outcome, thread link', async () => {
    const t = carebot();
    const a = { id: 'u-hist' };
    const one = await newCase(t, a, { text: `${HOSTILE} my first complaint` });
    await claimCase(t.db.db, t.clock, one, AGENT);
    await resolveCase(t.db.db, t.clock, one, AGENT);
    t.clock.advance(hours(24));
    const two = await newCase(t, a, { text: 'Second time now' });
    t.clock.advance(hours(24));
    const three = await newCase(t, a, { text: 'Third' });
    await sync(t);
    await press(t, 'case_history', String(three), AGENT, { ts: cardTs(t, three) });
    const view = await lastViewOpened(t, 1);
    const blocks = view.blocks as Array<{ text?: { text: string } }>;
    const texts = blocks.map((b) => b.text?.text ?? '');
    expect(texts[0]).toContain('2 other cases');
    expect(texts[1]).toContain(`Case #${two}`);
    expect(texts[1]).toContain('Second time now');
    expect(texts[1]).toContain('open');
    expect(texts[1]).toContain('unclaimed');
    expect(texts[2]).toContain(`Case #${one}`);
    expect(texts[2]).toContain(':white_check_mark: resolved');
    expect(texts[2]).toContain(`<@${AGENT}>`);
    // The customer's words are escaped: no mention, no disguised link.
    expect(texts[2]).toContain(
      '&lt;!channel&gt; &lt;@U0BOSS0001&gt; &amp; &lt;https://evil.example|click&gt;',
    );
    expect(texts.join('')).not.toContain('<!channel>');
    // Each case links to its thread.
    expect(texts[1]).toMatch(
      new RegExp(`<https://fake\\.slack\\.test/archives/${CARE_CHANNEL}/p\\d+\\|\\*Case #${two}\\*>`),
    );
    expect(texts[1]).toContain(`/p${cardTs(t, two).replace('.', '')}|`);
    expect(texts.join('')).not.toContain(`Case #${three}*`);
  });

  it('History of a customer with 60 cases stays within a modal: the newest 45, and says so', async () => {
    const t = carebot();
    const many = { id: 'u-many' };
    let last = 0;
    for (let i = 0; i < 60; i++) {
      last = await newCase(t, many, { text: `case ${i} ${'x'.repeat(10_000)}` });
    }
    await sync(t);
    expect(latestCard(t, last)).toContain('59 earlier cases');
    await press(t, 'case_history', String(last), AGENT, { ts: cardTs(t, last) });
    const view = await lastViewOpened(t, 1);
    const blocks = view.blocks as Array<{ type: string; text?: { text: string } }>;
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.viewBlocks);
    expect(blocks.filter((b) => b.text?.text.includes('Case #'))).toHaveLength(45);
    expect(blocks[1]?.text?.text).toContain(`Case #${last - 1}*`);
    expect(JSON.stringify(blocks.at(-1))).toContain('Showing the newest 45 of 59');
    for (const b of blocks) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(LIMITS.sectionText);
    // The fake Slack accepted it (it refuses what Slack would).
    expect(t.slack.callsTo('views.open')[0]?.response?.ok).toBe(true);
  });

  it('"Same person as…" links authors across sources: history spans both, and Unlink undoes it', async () => {
    const t = carebot();
    const onForum = await newCase(t, { id: 'u-forum-77', name: 'Ana on forum' }, { text: 'forum words' });
    const onShop = await newCase(t, { id: 's-9', name: 'Ana at the shop' }, { source: 'shop' });
    await sync(t);
    expect(latestCard(t, onShop)).not.toContain('case_history');
    const res = await linkViaModal(t, onShop, onForum, 1);
    expect(errorsOf(res)).toBe('{}');
    await sync(t);
    await eventually(() =>
      expect(threadTexts(t, onShop).join('\n')).toContain(
        `linked this customer to the author of case #${onForum}`,
      ),
    );
    expect(latestCard(t, onShop)).toContain(':link: Same person as 1 other account');
    expect(latestCard(t, onShop)).toContain('case_history');
    // A new case on the forum sees the shop case as an earlier one of the same person.
    const later = await newCase(t, { id: 'u-forum-77', name: 'Ana on forum' });
    await sync(t);
    expect(latestCard(t, later)).toContain('2 earlier cases');
    await press(t, 'case_history', String(onShop), AGENT, { ts: cardTs(t, onShop) });
    const history = JSON.stringify((await lastViewOpened(t, 2)).blocks);
    expect(history).toContain(`Case #${onForum}*`);
    expect(history).toContain('forum words');

    // Linking again, or to its own author, is refused with a reason.
    expect(errorsOf(await linkViaModal(t, onShop, onForum, 3))).toContain('Already linked');
    expect(errorsOf(await linkViaModal(t, onForum, later, 4))).toContain('this very author');
    expect(errorsOf(await linkViaModal(t, onShop, 9999, 5))).toContain('no case with that number');

    // Unlink, from the same modal.
    await menu(t, onShop, 'link');
    const modal = await lastViewOpened(t, 6);
    const unlink = (
      modal.blocks as Array<{
        block_id?: string;
        element?: { options?: Array<{ value: string; text: { text: string } }> };
      }>
    ).find((b) => b.block_id === 'same_person_unlink');
    const option = unlink?.element?.options?.[0];
    expect(option?.text.text).toContain('Ana on forum');
    const undo = await submit(t, SAME_PERSON_VIEW, AGENT, String(onShop), {
      same_person_unlink: {
        authors: { type: 'checkboxes', selected_options: [{ value: String(option?.value) }] },
      },
    });
    expect(errorsOf(undo)).toBe('{}');
    await sync(t);
    expect(threadTexts(t, onShop).join('\n')).toContain('unlinked *Ana on forum on forum*');
    expect(latestCard(t, onShop)).not.toContain(':link: Same person as');
    const groups = await t.db.db.select().from(customers);
    expect(groups.every((c) => c.personId === null)).toBe(true);
  });

  it('two instances linking the same two authors at once make one person, not a loop', async () => {
    const t = carebot();
    const a = await newCase(t, { id: 'race-a' });
    const b = await newCase(t, { id: 'race-b' }, { source: 'shop' });
    const results = await Promise.all([
      linkSamePerson(t.db.db, t.clock, { caseId: a, otherCaseId: b, actor: AGENT }, () => 'linked'),
      linkSamePerson(t.db.db, t.clock, { caseId: b, otherCaseId: a, actor: 'U0AGENT002' }, () => 'linked'),
    ]);
    expect(results.map((r) => r.kind).sort()).toEqual(['already_linked', 'linked']);
    const rows = await t.db.db.select().from(customers).orderBy(customers.id);
    expect(rows.filter((r) => r.personId === null)).toHaveLength(1);
    const root = rows.find((r) => r.personId === null)?.id;
    expect(rows.every((r) => r.personId === null || r.personId === root)).toBe(true);
  });

  it('note and VIP: edited in a modal, shown escaped on every card, VIP raises new cases one step', async () => {
    const t = carebot();
    const longName = `${'Q'.repeat(440)} ${HOSTILE}`;
    const open = await newCase(t, { id: 'u-vip', name: longName });
    const other = await newCase(t, { id: 'u-vip', name: longName });
    await sync(t);
    await menu(t, open, 'note');
    const view = await lastViewOpened(t, 1);
    expect(view.callback_id).toBe(CUSTOMER_NOTE_VIEW);
    // Too long: refused with the reason, nothing saved.
    const tooLong = await submit(t, CUSTOMER_NOTE_VIEW, AGENT, String(open), {
      customer_note: { note: 'n'.repeat(10_000) },
      customer_vip: { vip: { type: 'checkboxes', selected_options: [{ value: 'vip' }] } },
    });
    expect(errorsOf(tooLong)).toContain('at most 500 characters; this one has 10000');
    expect((await t.db.db.select().from(customers))[0]).toMatchObject({ note: null, vip: false });

    const note = `Journalist ${HOSTILE} ${'é'.repeat(400)}`;
    const saved = await submit(t, CUSTOMER_NOTE_VIEW, AGENT, String(open), {
      customer_note: { note },
      customer_vip: { vip: { type: 'checkboxes', selected_options: [{ value: 'vip' }] } },
    });
    expect(errorsOf(saved)).toBe('{}');
    await sync(t);
    const thread = threadTexts(t, open).join('\n');
    expect(thread).toContain(`<@${AGENT}> set the customer note`);
    expect(thread).toContain('marked this customer VIP');
    expect(thread).toContain('&lt;!channel&gt;');
    expect(thread).not.toContain('<!channel>');
    // Both open cards of theirs were redrawn, and Slack (the fake) took them.
    for (const id of [open, other]) {
      const card = latestCard(t, id);
      expect(card).toContain(':star: *VIP*');
      expect(card).toContain('Journalist &lt;!channel&gt; &lt;@U0BOSS0001&gt; &amp;');
      expect(card).not.toContain('<!channel>');
      expect(card).not.toContain('<@U0BOSS0001>');
    }
    expect(t.slack.callsTo('chat.update').every((c) => c.response?.ok)).toBe(true);

    // Their next case starts a step higher (P3 → P2), and says why.
    const next = await newCase(t, { id: 'u-vip' });
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, next));
    expect(row?.priority).toBe('P2');
    expect(row?.priorityReasons).toContain('VIP customer');
    await sync(t);
    expect(latestCard(t, next)).toContain('VIP customer');
    // Taking the flag off: the next case is P3 again.
    await menu(t, open, 'note');
    const reopened = await lastViewOpened(t, 2);
    expect(JSON.stringify(reopened)).toContain('"initial_options"');
    await submit(t, CUSTOMER_NOTE_VIEW, AGENT, String(open), { customer_note: { note: '' } });
    const after = await newCase(t, { id: 'u-vip' });
    expect((await t.db.db.select().from(cases).where(eq(cases.id, after)))[0]?.priority).toBe('P3');
    await sync(t);
    expect(threadTexts(t, open).join('\n')).toContain('took the VIP flag off');
    expect(threadTexts(t, open).join('\n')).toContain('cleared the customer note');
  });

  it('VIP on a linked account raises the other account’s new cases too', async () => {
    const t = carebot();
    const forum = await newCase(t, { id: 'u-link-vip' });
    const shop = await newCase(t, { id: 's-link-vip' }, { source: 'shop' });
    await linkSamePerson(
      t.db.db,
      t.clock,
      { caseId: shop, otherCaseId: forum, actor: AGENT },
      () => 'linked',
    );
    await sync(t);
    await menu(t, forum, 'note');
    await lastViewOpened(t, 1);
    await submit(t, CUSTOMER_NOTE_VIEW, AGENT, String(forum), {
      customer_vip: { vip: { type: 'checkboxes', selected_options: [{ value: 'vip' }] } },
    });
    const next = await newCase(t, { id: 's-link-vip' }, { source: 'shop' });
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, next));
    expect(row).toMatchObject({ priority: 'P2', priorityReasons: ['VIP customer'] });
  });

  it('guests are refused, and so is anyone when Slack cannot say who they are', async () => {
    const t = carebot();
    const id = await newCase(t, { id: 'u-perm' });
    await sync(t);
    const guest = 'U0GUESTC01';
    t.slack.users.set(guest, { id: guest, name: 'guest', is_restricted: true });
    await menu(t, id, 'note', guest);
    await eventually(() =>
      expect(t.slack.callsTo('chat.postEphemeral').map((c) => String(c.params.text))).toContainEqual(
        expect.stringContaining('Only the care team can link customers'),
      ),
    );
    expect(t.slack.callsTo('views.open')).toHaveLength(0);
    const forged = await submit(t, CUSTOMER_NOTE_VIEW, guest, String(id), {
      customer_note: { note: 'guest note' },
      customer_vip: { vip: { type: 'checkboxes', selected_options: [{ value: 'vip' }] } },
    });
    expect(errorsOf(forged)).toContain('Only the care team');
    const link = await submit(t, SAME_PERSON_VIEW, guest, String(id), {
      same_person_case: { case_number: '1' },
    });
    expect(errorsOf(link)).toContain('Only the care team');
    expect((await t.db.db.select().from(customers))[0]).toMatchObject({ note: null, vip: false });
  });

  it('/care forget follows the link: the linked account’s cases and every customer row are erased', async () => {
    const t = carebot();
    const forum = await newCase(
      t,
      { id: 'zz-secret-forum', name: 'Zed Secretname' },
      { text: 'ZZWORDS one' },
    );
    const shop = await newCase(
      t,
      { id: 'zz-secret-shop', name: 'Zed Shopname' },
      { source: 'shop', text: 'ZZWORDS two' },
    );
    const bystander = await newCase(t, { id: 'u-bystander' }, { text: 'keep me' });
    await linkSamePerson(
      t.db.db,
      t.clock,
      { caseId: forum, otherCaseId: shop, actor: AGENT },
      () => 'linked',
    );
    await sync(t);
    await menu(t, forum, 'note');
    await lastViewOpened(t, 1);
    await submit(t, CUSTOMER_NOTE_VIEW, AGENT, String(forum), {
      customer_note: { note: 'ZZNOTE journalist' },
    });
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care',
      text: `forget ${forum}`,
      user_id: AGENT,
      response_url: t.slack.responseUrl('forget'),
    });
    const opened = (await t.slack.waitFor('views.open', 2))[1];
    expect(opened?.params.view).toMatchObject({ callback_id: FORGET_VIEW });
    const viewId = String((opened?.response?.view as { id?: string } | undefined)?.id);
    await eventually(async () => expect(await confirmedCase(t.db.db, { userId: AGENT, viewId })).toBe(forum));
    const res = await submit(t, FORGET_VIEW, AGENT, String(forum), {}, viewId);
    expect(res.status).toBe(200);
    await eventually(async () => {
      const texts = await t.db.db.select({ caseId: messages.caseId, text: messages.text }).from(messages);
      expect(texts.find((m) => m.caseId === shop)?.text).toBe(REMOVED_TEXT);
    });
    const texts = await t.db.db.select({ caseId: messages.caseId, text: messages.text }).from(messages);
    expect(texts.find((m) => m.caseId === forum)?.text).toBe(REMOVED_TEXT);
    expect(texts.find((m) => m.caseId === bystander)?.text).toBe('keep me');
    const dump = JSON.stringify(
      await t.db.db.execute(
        sql`select c.*, (select json_agg(e.data) from case_events e) as events from customers c`,
      ),
    );
    for (const secret of ['zz-secret-forum', 'zz-secret-shop', 'ZZNOTE', 'Secretname'])
      expect(dump).not.toContain(secret);
    // A new message from the same author starts afresh: no history of what was forgotten.
    const again = await newCase(t, { id: 'zz-secret-forum' });
    await sync(t);
    expect(latestCard(t, again)).not.toContain('earlier case');
  });
});

describe('know the customer: a failed lookup refuses', () => {
  // Its own carebot: what Slack says of a user group is cached for a few minutes.
  const carebot = useCarebot({ CARE_CONFIG: configPath });

  it('a PR member whose group cannot be read may not edit the note: "could not check", nothing saved', async () => {
    const t = carebot();
    const id = await newCase(t, { id: 'u-lookup' });
    await sync(t);
    // A PR member's group cannot be read: "could not check", nothing done.
    const prPerson = 'U0PRLOOK01';
    t.slack.usergroupMembers.set(PR, [prPerson]);
    t.slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    const failed = await submit(t, CUSTOMER_NOTE_VIEW, prPerson, String(id), {
      customer_note: { note: 'should not stick' },
    });
    expect(errorsOf(failed)).toContain(LOOKUP_FAILED_TEXT.slice(0, 40));
    expect((await t.db.db.select().from(customers))[0]?.note).toBeNull();
    // Slack answers again: the same submission works (a failure is not cached).
    const again = await submit(t, CUSTOMER_NOTE_VIEW, 'U0AGENTLK1', String(id), {
      customer_note: { note: 'prefers DMs' },
    });
    expect(errorsOf(again)).toBe('{}');
    expect((await t.db.db.select().from(customers))[0]?.note).toBe('prefers DMs');
  });
});
