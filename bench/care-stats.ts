/**
 * How fast `/care-stats` answers over a large history, on PostgreSQL.
 *
 *   npm run bench:stats                       # 1,000,000 cases
 *   BENCH_CASES=200000 npm run bench:stats    # fewer, for a quick look
 *
 * Seeds BENCH_CASES cases spread over a year (with their clock events, replies and escalations,
 * shaped like carebot writes them) into a fresh database on TEST_DATABASE_URL's server, then
 * times the figures of `/care-stats 30d` and `7d` (each the median of 5 runs) without and with
 * the indexes the stats queries need, prints them as ratios against the 1-second budget, and
 * records them in docs/BENCHMARKS.md. The database is dropped afterwards (BENCH_KEEP=1 keeps it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { type CareStats, careStats } from '../src/care/stats.js';
import { caseExport } from '../src/care/stats-export.js';
import { statsPeriod } from '../src/care/stats-period.js';
import type { StatsRequest } from '../src/care/stats-query.js';
import { openDatabase } from '../src/db/client.js';
import { span } from '../src/slack/stats.js';

const CASES = Number(process.env.BENCH_CASES ?? 1_000_000);
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = 5;
const BUDGET_MS = 1000;
const NOW = new Date('2026-11-23T10:00:00Z');
const REPORT = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));

/** The indexes the stats queries read through (see the report of issue 8); not yet in schema.ts. */
const STATS_INDEXES = [
  'create index if not exists cases_opened_at_idx on cases (opened_at)',
  "create index if not exists cases_resolved_at_idx on cases (resolved_at) where status = 'resolved'",
  'create index if not exists case_events_type_at_idx on case_events (type, at)',
  `create index if not exists case_events_next_response_idx on case_events (at)
     where (type = 'sla_started' and data->'clocks' @> '["next_response"]'::jsonb)
       or (type = 'sla_stopped' and data->>'clock' = 'next_response')`,
  "create index if not exists replies_sent_at_idx on replies (sent_at) where status = 'sent'",
  'create index if not exists escalations_created_at_idx on escalations (created_at)',
];

const BUSINESS_HOURS = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'] as Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri'>,
  start: '09:00',
  end: '18:00',
  holidays: [],
};

async function seed(sql: postgres.Sql): Promise<void> {
  const now = NOW.toISOString();
  // One case a (365 days / N), ids in time order as carebot assigns them. 2% of the last two
  // weeks' cases are still open; 3% of open ones have no first answer yet.
  await sql`select setseed(0.42)`;
  await sql.unsafe(
    `insert into cases (source_key, platform, conversation_id, channel_id, status, owner_id, opened_at,
       last_customer_message_at, resolved_at, last_reply_at, first_response_due_at, first_response_at,
       resolution_due_at, resolution_remaining_ms, sla_state, priority, created_at, updated_at,
       card_version, card_posted_version)
     select source_key, platform, 'conv-' || g, 'C0CARE0001',
       case when is_open then 'open' else 'resolved' end,
       owner_id, opened_at, opened_at,
       case when is_open then null else opened_at + resolve_after end,
       first_response_at,
       opened_at + interval '1 hour',
       first_response_at,
       case when is_open then opened_at + interval '24 hours' end,
       case when is_open then null when resolve_after <= interval '24 hours' then 3600000 else 0 end,
       case when first_response_at > opened_at + interval '1 hour' then 'breached' else 'ok' end,
       priority, opened_at, opened_at, 2, 2
     from (
       select g, opened_at, platform, platform || ':' || (1 + (g % 3)) as source_key,
         'U' || lpad((1 + floor(random() * 20))::int::text, 8, '0') as owner_id,
         case when r < 0.05 then 'P1' when r < 0.30 then 'P2' else 'P3' end as priority,
         is_open,
         case when is_open and random() < 0.03 then null
           else opened_at + (1 + floor(random() * random() * 240)) * interval '1 minute' end as first_response_at,
         (1 + floor(random() * random() * 48 * 60)) * interval '1 minute' as resolve_after
       from (
         select g,
           '${now}'::timestamptz - (${CASES} - g) * (interval '365 days' / ${CASES}) as opened_at,
           (array['x', 'facebook', 'instagram', 'reddit', 'rss', 'webhook'])[1 + floor(random() * 6)::int] as platform,
           random() as r,
           (g > ${CASES} - ${CASES} * 14 / 365 and random() < 0.02) as is_open
         from generate_series(1, ${CASES}) g) base) shaped`,
  );
  // Clock events as carebot logs them; a third of the cases get a follow-up (next response).
  await sql.unsafe(
    `insert into case_events (case_id, type, actor, data, at)
     select case_id, type, actor, data, at from (
       select id as case_id, 'opened' as type, 'customer' as actor, '{}'::jsonb as data, opened_at as at, 0 as seq from cases
       union all select id, 'sla_started', 'carebot', '{"clocks":["first_response","resolution"]}', opened_at, 1 from cases
       union all select id, 'claimed', owner_id, '{}', opened_at + interval '1 minute', 2 from cases
       union all select id, 'reply_sent', owner_id, '{}', first_response_at, 3 from cases where first_response_at is not null
       union all select id, 'sla_stopped', 'carebot',
         jsonb_build_object('clock', 'first_response', 'met', first_response_at <= first_response_due_at),
         first_response_at, 4 from cases where first_response_at is not null
       union all select id, 'sla_breached', 'carebot', '{"clock":"first_response"}', first_response_due_at, 5
         from cases where first_response_at > first_response_due_at
       union all select id, 'sla_started', 'carebot', '{"clocks":["next_response"]}',
         first_response_at + interval '30 minutes', 6 from cases where id % 3 = 0 and first_response_at is not null
       union all select id, 'sla_stopped', 'carebot',
         jsonb_build_object('clock', 'next_response', 'met', id % 7 <> 0),
         first_response_at + interval '30 minutes' + (case when id % 7 <> 0 then 25 else 95 end) * interval '1 minute', 7
         from cases where id % 3 = 0 and first_response_at is not null
       union all select id, 'resolved', owner_id, '{}', resolved_at, 8 from cases where status = 'resolved'
       union all select id, 'sla_stopped', 'carebot',
         jsonb_build_object('clock', 'resolution', 'met', resolution_remaining_ms > 0), resolved_at, 9
         from cases where status = 'resolved'
       union all select id, 'sla_breached', 'carebot', '{"clock":"resolution"}', opened_at + interval '24 hours', 10
         from cases where status = 'resolved' and resolution_remaining_ms = 0) e
     order by at, case_id, seq`,
  );
  await sql.unsafe(
    `insert into replies (case_id, status, author_id, text, slack_channel, slack_ts, position, send_at, sent_at,
       created_at, updated_at)
     select case_id, 'sent', actor, 'Sorry about that; we are on it.', 'C0CARE0001', 'r' || id,
       extract(epoch from at)::numeric(20, 6), at, at, at, at
     from case_events where type = 'reply_sent'`,
  );
  await sql.unsafe(
    `insert into escalations (case_id, team_key, note, requested_by, created_at, acknowledged_at, answered_at)
     select id, (array['pr', 'product', 'marketing'])[1 + id % 3], 'Please look', owner_id,
       opened_at + interval '30 minutes', opened_at + interval '40 minutes',
       case when id % 5 <> 0 or status = 'resolved' then opened_at + interval '150 minutes' end
     from cases where id % 33 = 0`,
  );
  await sql.unsafe('vacuum analyze');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function time<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let result: T | undefined;
  const times: number[] = [];
  await run(); // warm the cache and the connections, as a running carebot has them
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = await run();
    times.push(performance.now() - started);
  }
  return { ms: median(times), result: result as T };
}

interface Row {
  what: string;
  withoutMs: number;
  withMs: number;
}

async function main(): Promise<void> {
  const name = `carebot_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(SERVER, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString() });
  const direct = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await handle.migrate();
    const seedStart = performance.now();
    await seed(direct);
    const seedS = (performance.now() - seedStart) / 1000;
    const [counts] = await direct`select (select count(*) from cases)::int as cases,
      (select count(*) from case_events)::int as events, (select count(*) from replies)::int as replies,
      (select count(*) from escalations)::int as escalations, version() as version`;
    console.log(
      `seeded ${counts?.cases} cases, ${counts?.events} events, ${counts?.replies} replies, ${counts?.escalations} escalations in ${seedS.toFixed(0)} s`,
    );

    const request = (kind: '30d' | '7d', filter: StatsRequest['filter'] = {}): StatsRequest => ({
      period: statsPeriod({ kind }, NOW, 'UTC'),
      filter,
      now: NOW,
      businessHours: BUSINESS_HOURS,
    });
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['/care-stats 30d', () => careStats(handle.db, request('30d'))],
      ['/care-stats 7d', () => careStats(handle.db, request('7d'))],
      ['/care-stats 30d x', () => careStats(handle.db, request('30d', { platform: 'x' }))],
      ['/care-stats 30d @agent', () => careStats(handle.db, request('30d', { agentId: 'U00000007' }))],
      ['/care-stats 7d csv (rows)', () => caseExport(handle.db, request('7d'))],
    ];
    const without: number[] = [];
    for (const [what, run] of cases) {
      const { ms } = await time(run);
      without.push(ms);
      console.log(`${what.padEnd(28)} without the stats indexes: ${ms.toFixed(0)} ms`);
    }
    for (const ddl of STATS_INDEXES) await direct.unsafe(ddl);
    await direct.unsafe('analyze');
    const rows: Row[] = [];
    let figures: CareStats | undefined;
    for (const [i, [what, run]] of cases.entries()) {
      const { ms, result } = await time(run);
      if (i === 0) figures = result as CareStats;
      rows.push({ what, withoutMs: without[i] ?? Number.NaN, withMs: ms });
      console.log(
        `${what.padEnd(28)} with them: ${ms.toFixed(0)} ms = ${(ms / BUDGET_MS).toFixed(2)} × the 1 s budget (${((without[i] ?? ms) / ms).toFixed(1)}× faster)`,
      );
    }
    if (figures) {
      const f = figures;
      console.log(
        `30d figures: ${f.newCases.current} new (${f.newCases.previous} before), first answer median ${span(f.firstResponse.current.median)}, p90 ${span(f.firstResponse.current.p90)}, open ${f.backlog.unclaimed + f.backlog.owned}, agents ${f.agents.length}`,
      );
    }
    writeReport(rows, {
      cases: Number(counts?.cases),
      events: Number(counts?.events),
      replies: Number(counts?.replies),
      escalations: Number(counts?.escalations),
      postgres: String(counts?.version).split(' on ')[0] ?? '',
      seedS,
    });
  } finally {
    await direct.end({ timeout: 5 });
    await handle.close();
    if (!process.env.BENCH_KEEP) await admin.unsafe(`drop database if exists ${name} with (force)`);
    else console.log(`kept database ${name}`);
    await admin.end({ timeout: 5 });
  }
}

const START = '<!-- care-stats:start -->';
const END = '<!-- care-stats:end -->';

function writeReport(
  rows: Row[],
  data: {
    cases: number;
    events: number;
    replies: number;
    escalations: number;
    postgres: string;
    seedS: number;
  },
): void {
  const cpus = os.cpus();
  const section = [
    START,
    '## `/care-stats` (bench/care-stats.ts)',
    '',
    `Run ${new Date().toISOString().slice(0, 10)} on ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, ${os.type()} ${os.release()}, Node ${process.version}, ${data.postgres}.`,
    `Data: ${data.cases.toLocaleString('en')} cases over a year, ${data.events.toLocaleString('en')} case events, ${data.replies.toLocaleString('en')} replies, ${data.escalations.toLocaleString('en')} escalations (seeded in ${data.seedS.toFixed(0)} s): a third of the cases with a follow-up, 3% escalated, 2% of the last two weeks' still open.`,
    `Each figure is the median of ${RUNS} runs after one warm-up; the stats queries run side by side on the connection pool.`,
    '',
    '| request | without the stats indexes | with them | against the 1 s budget |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.withoutMs.toFixed(0)} ms | ${r.withMs.toFixed(0)} ms | ${(r.withMs / BUDGET_MS).toFixed(2)} × |`,
    ),
    '',
    'The stats indexes:',
    '',
    ...STATS_INDEXES.map((ddl) => `- \`${ddl.replace('if not exists ', '').replace(/\s+/g, ' ')}\``),
    END,
  ].join('\n');
  const existing = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '# Benchmarks\n';
  const start = existing.indexOf(START);
  const end = existing.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${existing.slice(0, start)}${section}${existing.slice(end + END.length)}`
      : `${existing.trimEnd()}\n\n${section}\n`;
  writeFileSync(REPORT, next);
  console.log(`wrote ${REPORT}`);
}

await main();
