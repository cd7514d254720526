/**
 * What every job's queries cost over a large history, on PostgreSQL: seeds BENCH_CASES cases
 * (default 1,000,000) with their messages, events, replies and threads (bench/support/history.ts),
 * starts carebot on that database against the fake Slack with PostgreSQL's auto_explain sending
 * each statement's plan back as a notice, runs one round of each job, and writes the plans to
 * docs/BENCHMARKS.md ("Job queries at scale"): per job, its statements with their time and the
 * pages they read, and the full plan of the most expensive one. A cost that grows with history
 * shows as thousands of pages read, or a sequential scan of a big table.
 *
 * Baseline, in the same run: the Slack sync's lease query as it was before 2026-12-06.
 *
 *   npx tsx bench/job-plans.ts                    # 1,000,000 cases
 *   BENCH_CASES=100000 npx tsx bench/job-plans.ts # quicker
 *   BENCH_KEEP=1 …                                # keep the database afterwards
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { startFakeFeed } from '../emulators/feed/server.js';
import { startFakeSlack } from '../emulators/slack/web-api.js';
import { homeLists } from '../src/care/overview.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { startCarebot } from '../src/main.js';
import { BOT_TOKEN, CARE_CHANNEL, SIGNING_SECRET, writeConfig } from '../test/reliability/support/env.js';
import { enableAutoExplain } from './support/auto-explain.js';
import { seedHistory } from './support/history.js';
import { envNumber, machine, ms, num, table, writeSection } from './support/report.js';

const CASES = envNumber('BENCH_CASES', 1_000_000);
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Tables whose size grows with history: a sequential scan of one is a cost that grows too. */
const BIG = ['cases', 'messages', 'case_events', 'replies', 'slack_outbox', 'slack_threads', 'escalations'];

interface Statement {
  query: string;
  ms: number;
  pages: number;
  plan: string;
  seqScans: string[];
}

/** auto_explain's notice: `duration: 1.234 ms  plan:\nQuery Text: …\n<plan>`. */
function parseNotice(message: string): Statement | undefined {
  const m = /^duration: ([\d.]+) ms\s+plan:\n([\s\S]*)$/.exec(message);
  if (!m) return undefined;
  const body = m[2] ?? '';
  const textStart = body.indexOf('Query Text: ');
  const planStart = body.search(/\n(?=[A-Z][A-Za-z ]+(?: on | using |\s*\(|$))/m);
  const query = body.slice(textStart + 12, planStart > 0 ? planStart : undefined).trim();
  const plan = (planStart > 0 ? body.slice(planStart + 1) : body).trimEnd();
  const first = /Buffers: shared((?: hit=\d+)?(?: read=\d+)?(?: dirtied=\d+)?(?: written=\d+)?)/.exec(plan);
  const pages = first
    ? Number(/hit=(\d+)/.exec(first[1] ?? '')?.[1] ?? 0) + Number(/read=(\d+)/.exec(first[1] ?? '')?.[1] ?? 0)
    : 0;
  const seqScans = BIG.filter((t) => new RegExp(`Seq Scan on ${t}\\b`).test(plan));
  return { query, ms: Number(m[1]), pages, plan, seqScans };
}

const oneLine = (q: string, max = 110) => {
  const flat = q.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

async function main(): Promise<void> {
  const name = `carebot_bench_plans_${randomBytes(4).toString('hex')}`;
  const admin = postgres(SERVER, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  const slack = await startFakeSlack();
  const feed = await startFakeFeed();
  feed.setFeed('/feed.xml', {
    type: 'rss',
    items: [{ id: 'post-1', title: 'Hello', link: 'https://blog.example/1', published: new Date() }],
  });
  const captured: Statement[] = [];
  let capturing = false;
  try {
    const plain = await openDatabase({ url: url.toString() });
    await plain.migrate();
    await plain.close();
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const started = performance.now();
    const counts = await seedHistory(sql, CASES);
    const seedS = (performance.now() - started) / 1000;
    console.log(
      `seeded ${num(counts.cases)} cases, ${num(counts.messages)} messages, ${num(counts.events)} events in ${seedS.toFixed(0)} s`,
    );
    // Old lease query of the Slack sync (before 2026-12-06), the baseline of the new one.
    const baselineSql = `select id from cases
      where id in (select id from cases where card_posted_version < card_version
                   union select case_id from slack_outbox where posted_ts is null)
        and (slack_lease_until is null or slack_lease_until <= now())
      order by id limit 50 for update skip locked`;
    await sql.unsafe(`explain (analyze, buffers) ${baselineSql}`); // warm
    const baselineRows = await sql.unsafe(`explain (analyze, buffers, costs off) ${baselineSql}`);
    const baselinePlan = baselineRows.map((r) => String(r['QUERY PLAN'])).join('\n');
    const baselineMs = Number(/Execution Time: ([\d.]+)/.exec(baselinePlan)?.[1]);
    await enableAutoExplain(sql, name);
    await sql.end();

    const database = await openDatabase({
      url: url.toString(),
      onNotice: (notice) => {
        if (!capturing) return;
        const parsed = parseNotice(String(notice.message ?? ''));
        if (parsed) captured.push(parsed);
      },
    });
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      CARE_CHANNEL_ID: CARE_CHANNEL,
      SLACK_API_URL: slack.url,
      PORT: '0',
      CARE_CONFIG: writeConfig(
        [
          'business_hours: always',
          'teams: [{ key: pr, name: PR, usergroup: S0PRTEAM }]',
          'retention: { customer_text: 400d }',
          `sources: { rss: { feeds: [{ name: blog, url: "${feed.url('/feed.xml')}" }] } }`,
        ].join('\n'),
      ),
    });
    const carebot = await startCarebot({
      config,
      database,
      schedule: false,
      host: '127.0.0.1',
      logger: createLogger('silent'),
    });
    const jobs: Array<[string, () => Promise<unknown>]> = [
      ['Slack sync (lease, notices)', () => carebot.sync.runOnce()],
      ['SLA sweep', () => carebot.slaSweep.runOnce()],
      ['Escalation sweep', () => carebot.escalationSweep.runOnce()],
      ['Reply delivery', () => carebot.deliver.runOnce()],
      ['Pollers (lease, cursor)', () => carebot.pollers.runOnce()],
      ['Crisis watch', () => carebot.crisisWatch.runOnce()],
      ['Retention (nightly)', () => carebot.retention.runOnce()],
      ['App Home lists', () => homeLists(database.db, 'U0AGENT1', ['pr'])],
      ['Metrics gauges (/metrics)', () => carebot.metrics.scrape()],
    ];
    const results: Array<{ job: string; statements: Statement[] }> = [];
    for (const [job, run] of jobs) {
      captured.length = 0;
      capturing = true;
      await run();
      capturing = false;
      // The other jobs kick the sync when they change a card; its round would land in their
      // figures. Measured once on its own (first), it is kept still afterwards.
      await carebot.sync.idle();
      carebot.sync.kick = () => {};
      results.push({ job, statements: [...captured] });
      const worst = Math.max(0, ...captured.map((s) => s.pages));
      console.log(`${job}: ${captured.length} statements, most pages read by one: ${num(worst)}`);
    }
    await carebot.stop();

    const rows = results.map(({ job, statements }) => {
      const worst = [...statements].sort((a, b) => b.pages - a.pages)[0];
      const total = statements.reduce((sum, s) => sum + s.ms, 0);
      const scans = [...new Set(statements.flatMap((s) => s.seqScans))];
      return [
        job,
        statements.length,
        ms(total),
        worst ? num(worst.pages) : '0',
        worst ? ms(worst.ms) : '-',
        scans.length ? `**${scans.join(', ')}**` : 'none',
      ];
    });
    const details = results
      .filter(({ statements }) => statements.length)
      .map(({ job, statements }) => {
        const worst = [...statements].sort((a, b) => b.pages - a.pages)[0] as Statement;
        return [
          `#### ${job}`,
          '',
          `Most pages read by one statement (${num(worst.pages)} pages, ${ms(worst.ms)}): \`${oneLine(worst.query).replace(/`/g, "'")}\``,
          '',
          '```',
          worst.plan,
          '```',
        ].join('\n');
      });
    const host = await machine();
    writeSection(
      'job-plans',
      [
        '## Job queries at scale (`bench/job-plans.ts`)',
        '',
        host,
        `Data: ${num(counts.cases)} cases over a year, ${num(counts.messages)} messages, ${num(counts.events)} case events (seeded in ${seedS.toFixed(0)} s), with a fixed amount in flight: 200 cards and 100 thread posts not yet in Slack, 100 open cases due for an SLA check, 50 replies in their undo window, 1 in 500 cases open.`,
        'One round of each job with PostgreSQL\'s auto_explain on (`log_analyze`, `log_buffers`): every statement it sent, timed inside PostgreSQL; "pages" are 8 KiB buffers read (hit or from disk).',
        '',
        table(
          ['job', 'statements', 'total', 'most pages by one', 'its time', 'sequential scans of big tables'],
          rows,
        ),
        '',
        `Baseline, same data: the Slack sync's lease query before 2026-12-06 (\`id in (pending) order by id\`) took ${ms(baselineMs)}; its plan:`,
        '',
        '```',
        baselinePlan,
        '```',
        '',
        ...details,
      ].join('\n'),
    );
  } finally {
    await slack.close();
    await feed.close();
    if (!process.env.BENCH_KEEP) await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
