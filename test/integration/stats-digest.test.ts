import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogLevel, webApi } from '@slack/bolt';
import cron, { type ScheduledTask } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assignCase, leaseRotation } from '../../src/care/assignment-store.js';
import { seconds } from '../../src/care/clock.js';
import { StatsDigest } from '../../src/jobs/stats-digest.js';
import { createLogger } from '../../src/logger.js';
import {
  BOT_TOKEN,
  blocksOf,
  complaint,
  postWebhook,
  sync,
  type TestCarebot,
  useCarebot,
} from '../support/carebot.js';

const DIGEST_CHANNEL = 'C0DIGEST01';
const configPath = join(mkdtempSync(join(tmpdir(), 'carebot-digest-')), 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'timezone: Europe/Berlin',
    'stats:',
    `  digest_channel: ${DIGEST_CHANNEL}`,
    '  digest_cron: "0 9 * * 1"',
  ].join('\n'),
);

function digestFor(t: TestCarebot, config = t.config): StatsDigest {
  return new StatsDigest({
    db: t.db.db,
    clock: t.clock,
    logger: createLogger('silent'),
    client: new webApi.WebClient(BOT_TOKEN, {
      slackApiUrl: t.slack.url,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    }),
    config,
  });
}

const digestPosts = (t: TestCarebot) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.ok && c.params.channel === DIGEST_CHANNEL);

describe('the weekly stats digest', () => {
  const carebot = useCarebot({ CARE_CONFIG: configPath });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('posts the last 7 days with the chart to the digest channel, once per firing', async () => {
    const t = carebot();
    await postWebhook(t, complaint({ id: 'm1', conversationId: 'c1' }));
    await sync(t);
    t.clock.set('2026-11-23T08:00:00Z'); // Monday 09:00 in Berlin
    const digest = digestFor(t);

    const outcome = await digest.runOnce();
    expect(outcome).toMatchObject({ kind: 'posted', ts: expect.any(String) });
    const [post] = digestPosts(t);
    expect(blocksOf(post)[0]?.text?.text).toBe('Care stats: last 7 days');
    expect(JSON.stringify(post?.params.blocks)).toContain('times in Europe/Berlin');
    const [complete] = await t.slack.waitFor('files.completeUploadExternal');
    expect(complete?.params).toMatchObject({ channel_id: DIGEST_CHANNEL });
    const fileId = String(t.slack.callsTo('files.getUploadURLExternal')[0]?.response?.file_id);
    expect(t.slack.fileBytes(fileId).subarray(0, 4).toString('latin1')).toBe('\x89PNG');

    // Another instance firing the same minute, or a retry, posts nothing more; nor does the sync.
    expect(await digestFor(t).runOnce()).toEqual({ kind: 'duplicate' });
    t.clock.set('2026-11-23T09:00:00Z');
    await sync(t);
    expect(digestPosts(t)).toHaveLength(1);
  });

  it('carries the workflow figures of /care-stats, only for the features in use', async () => {
    const t = carebot();
    t.clock.set('2026-11-20T10:00:00Z');
    await postWebhook(t, complaint({ id: 'm1', conversationId: 'c1', createdAt: '2026-11-20T10:00:00Z' }));
    await sync(t);
    t.clock.set('2026-11-23T08:00:00Z'); // Monday 09:00 in Berlin
    expect(await digestFor(t).runOnce()).toMatchObject({ kind: 'posted' });
    expect(JSON.stringify(digestPosts(t)[0]?.params.blocks)).not.toContain('*Workflow*');

    // carebot assigns the case in that week; the next digest compares with it.
    t.clock.set('2026-11-20T10:05:00Z');
    const lease = await leaseRotation(t.db.db, t.clock.now(), seconds(30));
    if (!lease) throw new Error('no lease');
    await assignCase(t.db.db, {
      caseId: 1,
      userId: 'U0DIGESTA1',
      lease,
      now: t.clock.now(),
      slackText: 'assigned',
    });
    t.clock.set('2026-11-30T08:00:00Z'); // the next Monday: the previous week is the one before
    expect(await digestFor(t).runOnce()).toMatchObject({ kind: 'posted' });
    const blocks = JSON.stringify(digestPosts(t)[1]?.params.blocks);
    expect(blocks).toContain('*Workflow*\\nAuto-assigned 0 cases (was 1) · 0 handed back');
    expect(blocks).not.toContain('Trainee drafts');
  });

  it('falls back to a plain notice, posted by the Slack sync, when the digest cannot be posted', async () => {
    const t = carebot();
    t.clock.set('2026-11-23T08:00:00Z');
    t.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    expect(await digestFor(t).runOnce()).toEqual({ kind: 'failed', reason: 'not_in_channel' });
    await sync(t);
    expect(digestPosts(t)).toHaveLength(0);
    // Once the poster's hold has passed, the sync posts the digest's text.
    t.clock.set('2026-11-23T08:16:00Z');
    await sync(t);
    const [notice] = digestPosts(t);
    expect(String(notice?.params.text)).toMatch(/^Care stats: last 7 days: 0 new cases · Open: 0/);
  });

  it('is scheduled on stats.digest_cron in the configured time zone', async () => {
    const t = carebot();
    t.clock.set('2026-11-23T08:00:00Z');
    const task = { stop: vi.fn() } as unknown as ScheduledTask;
    const schedule = vi.spyOn(cron, 'schedule').mockReturnValue(task);
    const digest = digestFor(t);
    digest.start();
    expect(schedule).toHaveBeenCalledTimes(1);
    const [expression, fire, options] = schedule.mock.calls[0] ?? [];
    expect(expression).toBe('0 9 * * 1');
    expect(options).toMatchObject({ timezone: 'Europe/Berlin', noOverlap: true });
    // When cron fires, the digest goes out.
    (fire as () => void)();
    await t.slack.waitFor('files.completeUploadExternal');
    expect(digestPosts(t)).toHaveLength(1);
    await digest.stop();
    expect(task.stop).toHaveBeenCalled();
  });

  it('stays off without a digest channel', async () => {
    const t = carebot();
    const schedule = vi.spyOn(cron, 'schedule');
    const digest = digestFor(t, { ...t.config, stats: { digestChannel: null, digestCron: '0 9 * * 1' } });
    digest.start();
    expect(schedule).not.toHaveBeenCalled();
    expect(await digest.runOnce()).toEqual({ kind: 'off' });
    await digest.stop();
  });
});
