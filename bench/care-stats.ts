/**
 * How fast `/care-stats` answers over a large history, on PostgreSQL.
 *
 *   npm run bench:stats                       # 1,000,000 cases
 *   BENCH_CASES=200000 npm run bench:stats    # fewer, for a quick look
 *
 * Seeds BENCH_CASES cases spread over a year (with their clock events, replies and escalations,
 * shaped like carebot writes them) into a fresh database on TEST_DATABASE_URL's server, then
 * times the figures of `/care-stats 30d` and `7d` (each the median of 5 runs) against the real
 * alternative a team has without them: the period's CSV export (this period and the one before)
 * read by a script that computes the same headline figures (new cases by platform and priority,
 * first-answer median and p90, share within the SLA, breaches, cases per agent). The two must agree
 * on the counts. Prints them against the 1-second budget and records them in docs/BENCHMARKS.md.
 * The database is dropped afterwards (BENCH_KEEP=1 keeps it). BENCH_DB=<name> reuses a database a
 * kept run seeded (its name is printed at the end), migrating it to the current schema, and keeps it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { type CareStats, careStats } from '../src/care/stats.js';
import { CSV_COLUMNS, caseExport, casesCsv } from '../src/care/stats-export.js';
import { statsPeriod } from '../src/care/stats-period.js';
import type { StatsRequest } from '../src/care/stats-query.js';
import { openDatabase } from '../src/db/client.js';
import { span } from '../src/slack/stats.js';

const CASES = Number(process.env.BENCH_CASES ?? 1_000_000);
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = 5;
/** A kept database to time again instead of seeding a new one. */
const REUSE = process.env.BENCH_DB;
const BUDGET_MS = 1000;
const NOW = new Date('2026-11-23T10:00:00Z');
const REPORT = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));

const CSV_HEADER: readonly string[] = CSV_COLUMNS;

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
  carebotMs: number;
  /** The CSV export read by a script; undefined where the request is the export itself. */
  csvMs: number | undefined;
}

/** RFC 4180 rows of a CSV text (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

/** What a manager's script computes from the CSV export of a period and of the one before. */
interface CsvFigures {
  newCases: { current: number; previous: number };
  byPlatform: Record<string, number>;
  byPriority: Record<string, number>;
  firstAnswerMinutes: { median: number; p90: number };
  withinSla: number;
  breaches: number;
  perAgent: Record<string, number>;
}

async function fromCsvExport(db: Parameters<typeof caseExport>[0], req: StatsRequest): Promise<CsvFigures> {
  const before: StatsRequest = { ...req, period: { ...req.period, current: req.period.previous } };
  const [current, previous] = (await Promise.all([caseExport(db, req), caseExport(db, before)])).map((rows) =>
    parseCsv(casesCsv(rows, req.period.zone)).slice(1),
  );
  const rows = current as string[][];
  const col = (name: string) => CSV_HEADER.indexOf(name);
  const count = (i: number) => {
    const by: Record<string, number> = {};
    for (const r of rows) by[r[i] ?? ''] = (by[r[i] ?? ''] ?? 0) + 1;
    return by;
  };
  const minutes = rows
    .map((r) => r[col('first response minutes')])
    .filter((m): m is string => Boolean(m))
    .map(Number)
    .sort((a, b) => a - b);
  const at = (q: number) =>
    minutes[Math.min(minutes.length - 1, Math.floor(q * minutes.length))] ?? Number.NaN;
  const sla = rows.map((r) => r[col('within SLA')]).filter((v) => v === 'yes' || v === 'no');
  return {
    newCases: { current: rows.length, previous: (previous as string[][]).length },
    byPlatform: count(col('platform')),
    byPriority: count(col('priority')),
    firstAnswerMinutes: { median: at(0.5), p90: at(0.9) },
    withinSla: sla.filter((v) => v === 'yes').length / Math.max(1, sla.length),
    breaches: rows.reduce((n, r) => n + Number(r[col('breaches')] ?? 0), 0),
    perAgent: count(col('owner')),
  };
}

async function main(): Promise<void> {
  const name = REUSE ?? `carebot_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(SERVER, { max: 1, onnotice: () => {} });
  if (!REUSE) await admin.unsafe(`create database ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString() });
  const direct = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await handle.migrate();
    let seedS = 0;
    if (REUSE) {
      // The seeding time of the run that made it, if that run recorded one.
      const [kept] = await direct`select shobj_description(oid, 'pg_database') as note from pg_database
        where datname = current_database()`;
      seedS = Number(kept?.note ?? 0);
      await direct.unsafe('analyze');
    } else {
      const seedStart = performance.now();
      await seed(direct);
      seedS = (performance.now() - seedStart) / 1000;
      await direct.unsafe(`comment on database ${name} is '${seedS.toFixed(1)}'`);
    }
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
    const requests: Array<[string, StatsRequest, 'stats' | 'csv']> = [
      ['/care-stats 30d', request('30d'), 'stats'],
      ['/care-stats 7d', request('7d'), 'stats'],
      ['/care-stats 30d x', request('30d', { platform: 'x' }), 'stats'],
      ['/care-stats 30d @agent', request('30d', { agentId: 'U00000007' }), 'stats'],
      ['/care-stats 7d csv (rows)', request('7d'), 'csv'],
    ];
    const rows: Row[] = [];
    let figures: CareStats | undefined;
    for (const [i, [what, req, kind]] of requests.entries()) {
      const ours = await time<unknown>(() =>
        kind === 'stats' ? careStats(handle.db, req) : caseExport(handle.db, req),
      );
      if (i === 0) figures = ours.result as CareStats;
      let csvMs: number | undefined;
      if (kind === 'stats') {
        const csv = await time(() => fromCsvExport(handle.db, req));
        csvMs = csv.ms;
        // The two ways must agree on what both count.
        const stats = ours.result as CareStats;
        const platforms = Object.fromEntries(stats.byPlatform.map((p) => [p.key, p.current]));
        const agree =
          csv.result.newCases.current === stats.newCases.current &&
          csv.result.newCases.previous === stats.newCases.previous &&
          Object.entries(csv.result.byPlatform).every(([k, n]) => platforms[k] === n);
        if (!agree)
          throw new Error(
            `${what}: the CSV script counts ${JSON.stringify(csv.result.newCases)} and ${JSON.stringify(csv.result.byPlatform)}, /care-stats ${JSON.stringify(stats.newCases)} and ${JSON.stringify(platforms)}`,
          );
      }
      rows.push({ what, carebotMs: ours.ms, csvMs });
      console.log(
        `${what.padEnd(28)} ${ours.ms.toFixed(0)} ms = ${(ours.ms / BUDGET_MS).toFixed(2)} × the 1 s budget` +
          (csvMs === undefined
            ? ''
            : `; from the CSV export in a script: ${csvMs.toFixed(0)} ms (${(csvMs / ours.ms).toFixed(1)} × as long)`),
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
    if (!process.env.BENCH_KEEP && !REUSE) await admin.unsafe(`drop database if exists ${name} with (force)`);
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
    'Baseline: what a team without `/care-stats` does, the CSV export of the period and of the one before',
    "(carebot's own export, rendered as the file a manager downloads) read by a script that computes the",
    'headline figures: new cases by platform and priority, first-answer median and p90 (wall-clock), share',
    'within the SLA, breaches, cases per agent. It computes less than `/care-stats` (no next-response or',
    "resolution figures, no escalations, no business time), and its counts must equal `/care-stats`'s.",
    '',
    '| request | /care-stats | CSV export + script (baseline) | ratio to baseline | against the 1 s budget |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.carebotMs.toFixed(0)} ms | ${r.csvMs === undefined ? '(the export itself)' : `${r.csvMs.toFixed(0)} ms`} | ${r.csvMs === undefined ? '' : `${(r.carebotMs / r.csvMs).toFixed(2)} ×`} | ${(r.carebotMs / BUDGET_MS).toFixed(2)} × |`,
    ),
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
