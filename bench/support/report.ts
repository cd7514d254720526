import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { SERVER_URL } from '../../test/reliability/support/database.js';

const REPORT = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url));
const HEADING = '## Load, latency and memory (`npm run bench`)';
const INTRO = `${HEADING}

Each benchmark in \`bench/\` runs alone (\`npx tsx bench/<name>.ts\`) or all in a row (\`npm run bench\`), and
rewrites its own section below with the date, the machine and its figures, each against a baseline
measured in the same run. carebot runs as its own process (\`node --import tsx\`), the fake Slack
and the load generator in the benchmark's process, PostgreSQL on the same machine: all of them
share the two cores, so the figures are for the whole system on one small box.
`;

/** The machine line every section starts with. */
export async function machine(): Promise<string> {
  const cpus = os.cpus();
  let pg = 'PostgreSQL unreachable';
  const sql = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string }[]>`select split_part(version(), ' on ', 1) as v`;
    pg = row?.v ?? pg;
  } catch {
    // Reported as unreachable.
  } finally {
    await sql.end({ timeout: 2 });
  }
  return (
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus.length} × ` +
    `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, ` +
    `${os.type()} ${os.release()}, Node ${process.version}, ${pg}.`
  );
}

/**
 * Replaces this benchmark's section of docs/BENCHMARKS.md (between its markers), or adds it under
 * the heading of these benchmarks. Other sections, such as /care-stats, are left as they are.
 */
export function writeSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let doc = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '# Benchmarks\n';
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) {
    doc = `${doc.slice(0, from)}${block}${doc.slice(to + end.length)}`;
  } else {
    if (!doc.includes(HEADING)) doc = `${doc.trimEnd()}\n\n${INTRO}`;
    doc = `${doc.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(REPORT, doc.endsWith('\n') ? doc : `${doc}\n`);
  console.log(`\n(written to docs/BENCHMARKS.md, section "${name}")`);
}

/** A markdown table from a header row and rows. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
export const num = (n: number) => Math.round(n).toLocaleString('en-US');
export const ratio = (n: number) => `${n.toFixed(2)} ×`;
export const met = (ok: boolean) => (ok ? 'met' : '**missed**');
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** The value of a numeric environment variable, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
