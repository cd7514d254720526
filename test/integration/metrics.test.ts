import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { minutes, seconds } from '../../src/care/clock.js';
import { slaSettings } from '../../src/care/sla.js';
import { cases, replies } from '../../src/db/schema.js';
import { PollRunner } from '../../src/jobs/pollers.js';
import { SlaSweep } from '../../src/jobs/sla-sweep.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics.js';
import type { Poller } from '../../src/sources/types.js';
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
import { createTestDatabase } from '../support/database.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-metrics-'));
const configPath = join(dir, 'carebot.config.yaml');
writeFileSync(
  configPath,
  [
    'timezone: UTC',
    'reply_delay: 10s',
    'sla: { first_response: 1h, next_response: 1h, resolution: 24h }',
  ].join('\n'),
);

const TOKEN = 'metrics-test-token-0123456789abcdef';
const AGENT = 'U0AGENT001';

/** One sample: a metric name, its labels, its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, as far as these tests read it (no escaped quotes in label values). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[k as string] = v as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when absent. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

async function scrape(t: TestCarebot, authorization = `Bearer ${TOKEN}`) {
  const res = await fetch(`${t.url}/metrics`, { headers: { authorization } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

async function samples(t: TestCarebot): Promise<Sample[]> {
  const res = await scrape(t);
  expect(res.status).toBe(200);
  return parse(res.text);
}

async function openCase(t: TestCarebot, id: string): Promise<string> {
  await postWebhook(t, complaint({ id, conversationId: `c-${id}` }));
  await sync(t);
  return tsOf(
    t.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.ok && !c.params.thread_ts)
      .at(-1),
  );
}

async function claim(t: TestCarebot, caseId: number, threadTs: string) {
  await postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId: 'case_claim',
      value: String(caseId),
      userId: AGENT,
      channelId: CARE_CHANNEL,
      messageTs: threadTs,
    }),
  );
  await vi.waitFor(async () => {
    const [row] = await t.db.db.select().from(cases).where(eq(cases.id, caseId));
    expect(row?.ownerId).toBe(AGENT);
  });
}

async function answer(t: TestCarebot, threadTs: string, text: string, count: number) {
  await postThreadMessage(t.url, SIGNING_SECRET, { channel: CARE_CHANNEL, threadTs, user: AGENT, text });
  await vi.waitFor(async () => expect(await t.db.db.select().from(replies)).toHaveLength(count));
}

describe('GET /metrics', () => {
  const carebot = useCarebot({
    CARE_CONFIG: configPath,
    METRICS_TOKEN: TOKEN,
    // The X webhook route exists (its CRC check is a GET with a query string); nothing polls X here.
    X_USER_ID: '100',
    X_CONSUMER_KEY: 'ck',
    X_CONSUMER_SECRET: 'cs',
    X_ACCESS_TOKEN: 'at',
    X_ACCESS_SECRET: 'as',
    X_API_URL: 'http://127.0.0.1:9',
  });

  it('counts what this instance did and reads the queues from the database', async () => {
    const t = carebot();
    const before = await samples(t);
    const inboundBefore = value(before, 'carebot_inbound_messages_total', { platform: 'webhook' }) ?? 0;
    // Counters start at 0 for every platform and clock, so a rate over them is never missing.
    expect(value(before, 'carebot_replies_total', { platform: 'reddit', outcome: 'failed' })).toBe(0);
    expect(value(before, 'carebot_sla_breaches_total', { clock: 'next_response' })).toBe(0);

    const first = await openCase(t, 'a');
    const second = await openCase(t, 'b');
    // Slack is down while the third arrives: its card waits.
    t.slack.setDown(true);
    await postWebhook(t, complaint({ id: 'c', conversationId: 'c-c' }));
    await t.carebot.sync.idle();
    // A redelivery stores nothing, so it counts nothing.
    await postWebhook(t, complaint({ id: 'c', conversationId: 'c-c' }));
    await t.db.db.update(cases).set({ priority: 'P1' }).where(eq(cases.conversationId, 'c-c'));

    let s = await samples(t);
    expect(value(s, 'carebot_inbound_messages_total', { platform: 'webhook' })).toBe(inboundBefore + 3);
    expect(value(s, 'carebot_cases_open', { priority: 'P1' })).toBe(1);
    expect(value(s, 'carebot_cases_open', { priority: 'P2' })).toBe(0);
    expect(value(s, 'carebot_cases_open', { priority: 'P3' })).toBe(2);
    expect(value(s, 'carebot_cases_unclaimed')).toBe(3);
    // The third case's card is not in Slack yet.
    expect(value(s, 'carebot_slack_pending')).toBe(1);
    t.slack.setDown(false);
    t.clock.advance(minutes(5));
    await sync(t);
    expect(value(await samples(t), 'carebot_slack_pending')).toBe(0);

    await claim(t, 1, first);
    await claim(t, 2, second);
    await answer(t, first, 'Sorry, on it!', 1);
    t.receiver.answerNext({ status: 400, body: '{"error":"topic is locked"}' });
    await answer(t, second, 'Here is what happened', 2);
    s = await samples(t);
    expect(value(s, 'carebot_cases_unclaimed')).toBe(1);
    expect(value(s, 'carebot_replies_pending')).toBe(2);

    t.clock.advance(seconds(11));
    await deliver(t);
    await sync(t);
    // The receiver refuses whichever reply reaches it first.
    const statuses = (await t.db.db.select().from(replies).orderBy(asc(replies.id))).map((r) => r.status);
    expect(statuses.sort()).toEqual(['failed', 'sent']);
    s = await samples(t);
    expect(value(s, 'carebot_replies_pending')).toBe(0);
    expect(value(s, 'carebot_replies_total', { platform: 'webhook', outcome: 'sent' })).toBe(1);
    expect(value(s, 'carebot_replies_total', { platform: 'webhook', outcome: 'failed' })).toBe(1);

    // An hour on: the case whose reply failed and the one never answered miss their first answer.
    t.clock.set('2026-11-23T11:01:00Z');
    for (let i = 0; i < 3; i++) while ((await t.carebot.slaSweep.runOnce()) > 0) {}
    s = await samples(t);
    expect(value(s, 'carebot_sla_breaches_total', { clock: 'first_response' })).toBe(2);
    expect(value(s, 'carebot_sla_breaches_total', { clock: 'resolution' })).toBe(0);

    // A source whose credentials stopped working is paused; another that works is not.
    const failing: Poller = {
      key: 'test:failing',
      label: 'test source',
      everyMs: 60_000,
      poll: async () => ({ kind: 'auth_failed', reason: 'answered 401', hint: 'Renew the token.' }),
    };
    const working: Poller = {
      ...failing,
      key: 'test:working',
      poll: async () => ({ kind: 'ok', cursor: undefined, stored: 0 }),
    };
    const runner = new PollRunner({
      db: t.db.db,
      clock: t.clock,
      logger: createLogger('silent'),
      pollers: [failing, working],
      record: async () => ({ caseId: 0, messageId: 0, duplicate: true, opened: false }),
      noticeChannel: CARE_CHANNEL,
      onNotice: () => {},
    });
    for (let i = 0; i < 3; i++) {
      while (await runner.runOnce()) {}
      t.clock.advance(minutes(5));
    }
    s = await samples(t);
    expect(value(s, 'carebot_source_paused', { source: 'test:failing' })).toBe(1);
    expect(value(s, 'carebot_source_paused', { source: 'test:working' })).toBe(0);

    // Each webhook request, timed under its route: three stored (202), one redelivery (200).
    const timed = (status: string) =>
      value(s, 'carebot_http_request_duration_seconds_count', { route: 'POST /sources/webhook', status });
    expect(timed('202')).toBe(3);
    expect(timed('200')).toBe(1);
    // The default process metrics are there too.
    expect(value(s, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('labels a request with its route pattern, never its URL; unknown paths share one label', async () => {
    const t = carebot();
    const crc = await fetch(`${t.url}/sources/x/webhook?crc_token=${'q'.repeat(12)}-${Date.now()}`);
    await crc.text();
    for (const path of ['/no/such/page-1', `/random-${Math.random().toString(36).slice(2)}`]) {
      expect((await fetch(`${t.url}${path}?x=1`)).status).toBe(404);
    }
    const s = await samples(t);
    const routes = new Set(
      s.filter((x) => x.name === 'carebot_http_request_duration_seconds_count').map((x) => x.labels.route),
    );
    expect(routes).toContain('GET /sources/x/webhook');
    expect(routes).toContain('unmatched');
    for (const route of routes) expect(route).not.toMatch(/\?|crc_token|random-|page-1/);
    expect(
      value(s, 'carebot_http_request_duration_seconds_count', { route: 'unmatched', status: '404' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('asks for the token: missing, wrong or huge is 401, and no token is logged', async () => {
    const t = carebot();
    const huge = 'x'.repeat(10_000);
    for (const authorization of [
      '',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      `Bearer ${huge}`,
    ]) {
      const res = await scrape(t, authorization);
      expect(res.status, authorization.slice(0, 20)).toBe(401);
      expect(res.text).not.toContain('carebot_');
    }
    const ok = await scrape(t);
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/plain; version=0.0.4');
    const logs = t.logs.join('');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(huge.slice(0, 100));
    // Nothing went wrong on the server side, either.
    expect(logs).not.toMatch(/"level":(50|60)/);
  });

  it('counts a breach once when two instances sweep at the same moment', async () => {
    const t = carebot();
    await openCase(t, 'twice');
    t.clock.set('2026-11-23T11:01:00Z');
    const counted = [
      new Metrics(t.db.db, createLogger('silent')),
      new Metrics(t.db.db, createLogger('silent')),
    ];
    const sweeps = counted.map(
      (metrics) =>
        new SlaSweep({
          db: t.db.db,
          clock: t.clock,
          logger: createLogger('silent'),
          settings: slaSettings(t.config),
          careTeamUsergroup: null,
          managersUsergroup: null,
          teams: [],
          breachEscalateTo: null,
          metrics,
          onChange: () => {},
          schedule: '* * * * *',
        }),
    );
    for (let i = 0; i < 3; i++) await Promise.all(sweeps.map((s) => s.runOnce()));
    const breaches = await Promise.all(
      counted.map(async (m) =>
        value(parse(await m.scrape()), 'carebot_sla_breaches_total', { clock: 'first_response' }),
      ),
    );
    expect(breaches.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(1);
  });

  it('times one scrape over 10,000 cases', async () => {
    const t = carebot();
    await t.db.db.execute(
      sql`insert into cases (source_key, platform, conversation_id, channel_id, status, owner_id, priority,
            opened_at, last_customer_message_at, resolved_at, created_at, updated_at, card_version, card_posted_version)
          select 'webhook:forum', 'webhook', 'seed-' || i, ${CARE_CHANNEL},
            case when i % 50 = 0 then 'open' else 'resolved' end,
            case when i % 100 = 0 then ${AGENT} else null end,
            case when i % 3 = 0 then 'P1' when i % 3 = 1 then 'P2' else 'P3' end,
            now(), now(), case when i % 50 = 0 then null else now() end, now(), now(), 1, 1
          from generate_series(1, 10000) as i`,
    );
    await scrape(t); // warm: the first scrape plans the queries
    const started = performance.now();
    const s = await samples(t);
    const ms = performance.now() - started;
    console.info(`one /metrics scrape over 10,000 cases (200 open): ${ms.toFixed(1)} ms`);
    const open = ['P1', 'P2', 'P3'].map((priority) => value(s, 'carebot_cases_open', { priority }) ?? 0);
    expect(open.reduce((a, b) => a + b, 0)).toBe(200);
    expect(value(s, 'carebot_cases_unclaimed')).toBe(100);
  });
});

describe('/metrics with the database down', () => {
  it('serves the counters and leaves out the gauges that failed or hung', async () => {
    const handle = await createTestDatabase();
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => lines.push(l) } as never);
    const metrics = new Metrics(handle.db, logger, 100);
    metrics.inboundStored('webhook');
    expect(parse(await metrics.scrape()).some((s) => s.name === 'carebot_cases_unclaimed')).toBe(true);
    await handle.close();
    const down = parse(await metrics.scrape());
    expect(value(down, 'carebot_inbound_messages_total', { platform: 'webhook' })).toBe(1);
    expect(
      down.some((s) => s.name.startsWith('carebot_cases_') || s.name === 'carebot_replies_pending'),
    ).toBe(false);
    await metrics.scrape();
    expect(lines.filter((l) => l.includes('database gauges left out'))).toHaveLength(1);

    // A database that never answers: the scrape ends after the gauge timeout, without them.
    const hung = new Metrics({ execute: () => new Promise(() => {}) } as never, logger, 100);
    const started = performance.now();
    const text = await hung.scrape();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('carebot_slack_pending ');
  });
});

describe('the metrics docs', () => {
  it('name only metrics carebot serves, and every one of them', async () => {
    const handle = await createTestDatabase();
    try {
      const text = await new Metrics(handle.db, createLogger('silent')).scrape();
      const served = new Set([...text.matchAll(/^# TYPE (carebot_\w+)/gm)].map((m) => m[1]));
      const read = (file: string) => readFileSync(new URL(`../../docs/${file}`, import.meta.url), 'utf8');
      const named = (doc: string) =>
        new Set([...doc.matchAll(/carebot_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
      const documented = named(read('operations.md'));
      for (const name of served) expect(documented).toContain(name);
      for (const name of named(read('grafana-dashboard.json'))) expect(served).toContain(name);
    } finally {
      await handle.close();
    }
  });
});
