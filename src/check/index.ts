import { type Clock, systemClock } from '../care/clock.js';
import { type Config, settingsOf } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { sources } from '../sources/index.js';
import type { CheckDeps, CheckLine, SourceModule } from '../sources/types.js';
import { checkDatabase } from './database.js';
import { checkSlack } from './slack.js';

/** Every call of the check gives up after this long. */
export const CHECK_TIMEOUT_MS = 5_000;

export interface SetupCheckOptions {
  timeoutMs?: number;
  clock?: Clock;
  /** The database carebot already has open (the start-up check); otherwise the configured one is opened. */
  database?: Database;
}

export interface SetupCheckResult {
  ok: boolean;
  lines: CheckLine[];
}

/**
 * `npm run check` and the start-up check: Slack, each source's credentials, and the database,
 * through the same base URLs carebot uses, with read-only calls. Nothing is posted anywhere.
 */
export async function runSetupCheck(config: Config, opts: SetupCheckOptions = {}): Promise<SetupCheckResult> {
  const timeoutMs = opts.timeoutMs ?? CHECK_TIMEOUT_MS;
  const deps: CheckDeps = {
    timeoutMs,
    clock: opts.clock ?? systemClock,
    settingsOf: (part) => settingsOf(config, part),
  };
  const modules: readonly SourceModule[] = sources;
  // The database first, alone: opening the embedded one keeps the CPU busy for a while, which
  // would eat into the other calls' timeouts.
  const database = await guarded('Database', () => checkDatabase(config, timeoutMs, opts.database));
  const groups = await Promise.all([
    guarded('Slack', () => checkSlack(config, timeoutMs)),
    ...modules.map((source) =>
      guarded(source.label, async () =>
        source.check ? source.check((config.sources as Record<string, unknown>)[source.platform], deps) : [],
      ),
    ),
  ]);
  groups.push(database);
  const secrets = secretsOf(config);
  const lines = groups.flat().map((line) => redact(line, secrets));
  return { ok: lines.every((line) => line.ok), lines };
}

/** `✓ what` or `✗ what — what to do`. */
export function formatCheckLine(line: CheckLine): string {
  return line.ok ? `✓ ${line.what}` : `✗ ${line.what}${line.fix ? ` — ${line.fix}` : ''}`;
}

/** A check that throws is a failed line, named by its part; the error's text is not shown (it may quote a request). */
async function guarded(part: string, run: () => Promise<CheckLine[]>): Promise<CheckLine[]> {
  try {
    return await run();
  } catch (err) {
    const kind = err instanceof Error ? err.name : 'error';
    return [
      {
        ok: false,
        what: `${part}: the check itself failed (${kind})`,
        fix: 'run it again; if it stays, report it',
      },
    ];
  }
}

const SECRET_KEY = /token|secret|password|key$|url$/i;

/**
 * Every secret in the configuration: the Slack tokens, and each source's values under a key that
 * names a token, secret, password, key or URL (feed and reply URLs may carry tokens). The lines are
 * written not to hold them; this is the net under that.
 */
function secretsOf(config: Config): string[] {
  const found = new Set<string>();
  const { botToken, appToken, signingSecret } = config.slack;
  for (const value of [botToken, appToken, signingSecret]) if (value) found.add(value);
  if ('url' in config.database && config.database.url) found.add(config.database.url);
  const walk = (value: unknown, key: string) => {
    if (typeof value === 'string') {
      if (SECRET_KEY.test(key) && !/^apiUrl$|^authUrl$/.test(key)) found.add(value);
    } else if (Array.isArray(value)) for (const item of value) walk(item, key);
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(config.sources, 'sources');
  return [...found].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
}

function redact(line: CheckLine, secrets: string[]): CheckLine {
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return { ok: line.ok, what: scrub(line.what), ...(line.fix ? { fix: scrub(line.fix) } : {}) };
}

/**
 * The start-up check: runs once in the background after carebot listens, and logs each failed
 * line once (warn), with what to do. It never delays or stops the start; `quiet()` says the result
 * no longer matters (carebot is stopping).
 */
export function checkSetupInBackground(
  config: Config,
  opts: SetupCheckOptions & { logger: Logger; quiet(): boolean },
): void {
  runSetupCheck(config, opts).then(
    (result) => {
      if (opts.quiet()) return;
      for (const line of result.lines) {
        if (!line.ok) opts.logger.warn({ fix: line.fix }, `setup check: ${line.what}`);
      }
    },
    (err) => {
      if (!opts.quiet()) opts.logger.warn({ err }, 'setup check could not run');
    },
  );
}
