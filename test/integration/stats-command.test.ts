import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { postSlashCommand } from '../../emulators/slack/signing.js';
import type { SlackCall } from '../../emulators/slack/web-api.js';
import { REFUSAL_TEXT } from '../../src/slack/stats-args.js';
import {
  type Block,
  blocksOf,
  CARE_CHANNEL,
  complaint,
  postWebhook,
  SIGNING_SECRET,
  sync,
  type TestCarebot,
  useCarebot,
} from '../support/carebot.js';

const configPath = join(mkdtempSync(join(tmpdir(), 'carebot-stats-')), 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'timezone: UTC',
    'managers_usergroup: S0MANAGERS',
    'teams:',
    '  - { key: pr, name: PR, usergroup: S0PR00001 }',
  ].join('\n'),
);

const MANAGER = 'U0MANAGER1';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const textOf = (call: SlackCall | undefined) =>
  [
    String(call?.params.text ?? ''),
    ...blocksOf(call).map((b: Block & { fields?: Array<{ text: string }> }) =>
      [
        b.text?.text ?? '',
        ...(b.fields ?? []).map((f) => f.text),
        ...(b.elements ?? []).map((e) => String(e.text ?? '')),
      ].join('\n'),
    ),
  ].join('\n');

describe('/care-stats', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  let answers = 0;

  beforeEach(async () => {
    answers = 0;
    const t = carebot();
    t.slack.usergroupMembers.set('S0MANAGERS', [MANAGER]);
    // Two complaints on the forum, an hour ago; their cards are posted, so they have threads.
    t.clock.set('2026-11-23T09:00:00Z');
    await postWebhook(t, complaint({ id: 'm1', conversationId: 'c1', createdAt: '2026-11-23T09:00:00Z' }));
    t.clock.set('2026-11-23T09:30:00Z');
    await postWebhook(t, complaint({ id: 'm2', conversationId: 'c2', createdAt: '2026-11-23T09:30:00Z' }));
    await sync(t);
    t.clock.set('2026-11-23T10:30:00Z');
  });

  /** Runs the command and returns what came back through the response URL. */
  async function stats(t: TestCarebot, text: string, user = MANAGER): Promise<SlackCall | undefined> {
    const res = await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care-stats',
      text,
      user_id: user,
      channel_id: CARE_CHANNEL,
      response_url: t.slack.responseUrl('stats'),
    });
    expect(res.status).toBe(200);
    answers += 1;
    const calls = await t.slack.waitFor('response_url', answers);
    return calls[answers - 1];
  }

  it('answers privately through the response URL, with the oldest waiting case linked', async () => {
    const t = carebot();
    const answer = await stats(t, '');
    expect(answer?.params.response_type).toBe('ephemeral');
    const [header] = blocksOf(answer);
    expect(header).toMatchObject({ type: 'header', text: { text: 'Care stats: last 7 days' } });
    const body = textOf(answer);
    expect(body).toContain('17–23 Nov 2026, compared with the 7 days before · times in UTC');
    expect(body).toContain('*New cases*\n2 (none before)');
    expect(body).toContain('*Open now*\n2: 2 unclaimed, 0 claimed');
    expect(body).toContain('*By platform* forum 2 (none before)');
    // Case 1 has waited 90 minutes; its card's thread is where the link goes.
    const [permalink] = t.slack.callsTo('chat.getPermalink');
    expect(permalink?.params).toMatchObject({ channel: CARE_CHANNEL });
    expect(body).toMatch(
      /Oldest waiting: <https:\/\/fake\.slack\.test\/archives\/C0CARE0001\/p\d+\|case #1>, for 1h 30m/,
    );
    expect(body).toContain('Add `public`');
    expect(blocksOf(answer).length).toBeLessThanOrEqual(50);
    // Nothing was posted in the channel or uploaded.
    expect(t.slack.callsTo('files.getUploadURLExternal')).toHaveLength(0);
  });

  it('refuses, politely, people who are not care managers', async () => {
    const t = carebot();
    const answer = await stats(t, '30d', 'U0AGENT001');
    expect(answer?.params).toMatchObject({ response_type: 'ephemeral', text: REFUSAL_TEXT });
    expect(answer?.params.blocks).toBeUndefined();
  });

  it.each([
    ['today', 'Care stats: today', 'compared with the same hours yesterday'],
    ['yesterday', 'Care stats: yesterday', 'compared with the day before'],
    ['7d', 'Care stats: last 7 days', 'compared with the 7 days before'],
    ['30d', 'Care stats: last 30 days', '25 Oct – 23 Nov 2026, compared with the 30 days before'],
    ['this-week', 'Care stats: this week', 'compared with the same days last week'],
    ['last-week', 'Care stats: last week', '16–22 Nov 2026, compared with the week before'],
    ['2026-11-01..2026-11-23', 'Care stats: 1–23 Nov 2026', 'compared with the 23 days before'],
    ['webhook', 'Care stats: last 7 days', 'only Webhook'],
    ['forum', 'Care stats: last 7 days', 'only forum'],
    ['x', 'Care stats: last 7 days', 'only X'],
    ['<@U0AGENT001|agent>', 'Care stats: last 7 days', 'only <@U0AGENT001>'],
    ['30d webhook <@U0AGENT001|agent>', 'Care stats: last 30 days', 'only Webhook, <@U0AGENT001>'],
  ])('reads `%s`', async (text, title, scope) => {
    const t = carebot();
    const answer = await stats(t, text);
    expect(blocksOf(answer)[0]?.text?.text).toBe(title);
    expect(textOf(answer)).toContain(scope);
  });

  it('counts only the filtered cases', async () => {
    const t = carebot();
    expect(textOf(await stats(t, 'forum'))).toContain('*New cases*\n2 ');
    expect(textOf(await stats(t, 'x'))).toContain('*New cases*\n0');
    expect(textOf(await stats(t, 'yesterday'))).toContain('*New cases*\n0');
  });

  it('answers an unknown argument with the usage, not an error', async () => {
    const t = carebot();
    const answer = await stats(t, '7d bogus!');
    expect(answer?.params.response_type).toBe('ephemeral');
    expect(String(answer?.params.text)).toContain("I don't know `bogus!`");
    expect(String(answer?.params.text)).toContain('*Usage:* `/care-stats [period]');
    const unknownSource = await stats(t, 'nosuchsource');
    expect(String(unknownSource?.params.text)).toContain('No platform or source is called `nosuchsource`');
  });

  it('`public` posts the figures in the channel and uploads the chart', async () => {
    const t = carebot();
    await postSlashCommand(t.url, SIGNING_SECRET, {
      command: '/care-stats',
      text: 'public',
      user_id: MANAGER,
      channel_id: CARE_CHANNEL,
      response_url: t.slack.responseUrl('stats'),
    });
    const [complete] = await t.slack.waitFor('files.completeUploadExternal');
    const post = t.slack.callsTo('chat.postMessage').find((c) => textOf(c).includes('Care stats'));
    expect(post?.params.channel).toBe(CARE_CHANNEL);
    expect(textOf(post)).toContain('The chart below');
    // Slack's upload flow, in order: ask for a URL, send the bytes there, complete into the channel.
    const flow = t.slack.calls
      .map((c) => c.method)
      .filter((m) => ['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal'].includes(m));
    expect(flow).toEqual(['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal']);
    const [getUrl] = t.slack.callsTo('files.getUploadURLExternal');
    const fileId = String(getUrl?.response?.file_id);
    expect(getUrl?.params.filename).toBe('care-stats-2026-11-17-2026-11-23.png');
    const bytes = t.slack.fileBytes(fileId);
    expect(Number(getUrl?.params.length)).toBe(bytes.length);
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(complete?.params).toMatchObject({
      channel_id: CARE_CHANNEL,
      files: [{ id: fileId, title: 'Care stats: last 7 days (17–23 Nov 2026)' }],
    });
    expect(t.slack.files.get(fileId)).toMatchObject({ completed: true, channelId: CARE_CHANNEL });
    expect(t.slack.callsTo('response_url')).toHaveLength(0);
  });

  it('`public` in a channel carebot is not in says so, privately, with the figures', async () => {
    const t = carebot();
    t.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const answer = await stats(t, 'public');
    expect(answer?.params.response_type).toBe('ephemeral');
    expect(textOf(answer)).toContain('carebot is not a member of this channel');
    expect(textOf(answer)).toContain('*New cases*\n2');
    expect(t.slack.callsTo('files.getUploadURLExternal')).toHaveLength(0);
  });

  it('`csv` uploads the cases of the period as a CSV file', async () => {
    const t = carebot();
    const answer = await stats(t, 'csv');
    expect(String(answer?.params.text)).toBe(
      ':page_facing_up: Posted 2 cases as a CSV file in this channel.',
    );
    const [getUrl] = t.slack.callsTo('files.getUploadURLExternal');
    expect(getUrl?.params.filename).toBe('care-cases-2026-11-17-2026-11-23.csv');
    const csv = t.slack.fileBytes(String(getUrl?.response?.file_id)).toString('utf8').split('\r\n');
    expect(csv[0]).toBe(
      'case id,platform,source,opened at,owner,priority,first response at,first response minutes,within SLA,resolved at,breaches,csat',
    );
    // Case 1's first answer was due at 10:00 and is missed; case 2's is due now, so it is still open.
    expect(csv[1]).toMatch(/^1,webhook,webhook:forum,2026-11-23T09:00:00Z,,P\d,,,no,,0,$/);
    expect(csv[2]).toMatch(/^2,webhook,webhook:forum,2026-11-23T09:30:00Z,,P\d,,,,,0,$/);
    const [complete] = t.slack.callsTo('files.completeUploadExternal');
    expect(complete?.params).toMatchObject({ channel_id: CARE_CHANNEL });
    expect(String(complete?.params.initial_comment)).toContain(
      `Cases opened 17–23 Nov 2026: 2, for <@${MANAGER}>.`,
    );
  });

  it('`csv` where carebot may not post says what to do', async () => {
    const t = carebot();
    t.slack.failNext('files.completeUploadExternal', { error: 'not_in_channel' });
    const answer = await stats(t, 'csv');
    expect(String(answer?.params.text)).toContain('Invite it with `/invite @carebot`');
  });
});
