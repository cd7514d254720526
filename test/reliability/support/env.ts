import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The identities a reliability run (or a benchmark) gives carebot. The values match
 * test/support/carebot.ts, which cannot be imported outside vitest because it registers hooks.
 */
export const CARE_CHANNEL = 'C0CARE0001';
export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const WEBHOOK_SECRET = `whsec_${Buffer.from('carebot-test-webhook-secret-0001').toString('base64')}`;
export const BOT_TOKEN = 'xoxb-0000-test-bot-token';
export const AGENT = 'U0AGENT001';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Writes a carebot.config.yaml into a fresh temporary folder and returns its path. */
export function writeConfig(yaml = ''): string {
  const path = join(mkdtempSync(join(tmpdir(), 'carebot-rel-config-')), 'carebot.config.yaml');
  writeFileSync(path, yaml);
  return path;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CarebotEnvOptions {
  slackUrl: string;
  /** PostgreSQL URL; without it carebot uses embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir?: string;
  replyUrl?: string;
  configYaml?: string;
  port?: number;
  logLevel?: string;
  extra?: Record<string, string>;
}

/**
 * Runs and benchmarks send bursts that the crisis watch rightly calls a spike, and its alert quotes
 * sample cases, which would count as second posts of their messages: the watch is off unless a
 * run configures `crisis` itself (the watch has its own tests).
 */
function withoutCrisisWatch(yaml: string): string {
  return /^crisis:/m.test(yaml) ? yaml : `${yaml}\ncrisis: { watch: false }\n`;
}

/** The environment of one carebot, as an operator would set it (see DESIGN.md). */
export function carebotEnv(o: CarebotEnvOptions): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: o.slackUrl,
    CARE_CHANNEL_ID: CARE_CHANNEL,
    CARE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CARE_CONFIG: writeConfig(withoutCrisisWatch(o.configYaml ?? '')),
    PORT: String(o.port ?? 0),
    LOG_LEVEL: o.logLevel ?? 'warn',
    ...(o.replyUrl ? { CARE_WEBHOOK_REPLY_URL: o.replyUrl, CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true' } : {}),
    ...(o.databaseUrl
      ? { DATABASE_URL: o.databaseUrl }
      : { DATA_DIR: o.dataDir ?? tempDir('carebot-rel-data-') }),
    ...o.extra,
  };
}
