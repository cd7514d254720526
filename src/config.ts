import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  type CareConfig,
  careEnvShape,
  careFileShape,
  crossCheckCare,
  resolveCare as resolveCareConfig,
} from './config/care.js';
import { duration, slackChannelId } from './config/fields.js';
import { sources } from './sources/index.js';
import type { SourceConfig, SourceModule } from './sources/types.js';

/**
 * Reads the environment (secrets and deployment) and `carebot.config.yaml` (everything else).
 * A bad value stops start-up with one message that lists every problem by name and says what to
 * do. Values are never echoed back: several of them are secrets. The care settings are in
 * config/care.ts; each source brings its own part (src/sources/<platform>/config.ts).
 */

// A section for a platform carebot does not know yet: only what every source shares is checked.
const unknownSource = z
  .looseObject({
    channel: slackChannelId.optional().describe('checked to be a Slack channel id'),
    poll_every: duration.optional().describe('checked to be a duration'),
  })
  .describe(
    'Other names under `sources` (a platform carebot does not know yet) are accepted, with these two keys checked; nothing reads them.',
  );

/** carebot.config.yaml: the care sections, and `sources` with one part per source module. */
export const fileSchema = z
  .strictObject({
    ...careFileShape,
    sources: z
      .looseObject(Object.fromEntries(sources.map((s) => [s.platform, s.config.file])))
      .catchall(unknownSource)
      .prefault({})
      .describe(
        "Where customers' messages come from, one section per platform. A case goes to its account's, Page's or feed's own `channel`, else to its platform's, else to `CARE_CHANNEL_ID` (see [Channels](sources/README.md#channels)).",
      ),
  })
  .describe('The keys of `carebot.config.yaml`. Top-level values come first, then each section.');

/** The environment: deployment and Slack, then each source's variables. */
const sourceEnvShape: z.core.$ZodLooseShape = Object.assign({}, ...sources.map((s) => s.config.env ?? {}));
export const envSchema = z
  .object({ ...careEnvShape, ...sourceEnvShape })
  .describe("Slack, the database and the HTTP server, then each source's variables.");

type SettingsOf<M> = M extends SourceModule<string, infer Settings> ? Settings : never;

/** Each source's settings, by platform key. */
export type SourcesConfig = {
  [M in (typeof sources)[number] as M['platform']]: SettingsOf<M>;
};

/** Everything carebot runs on, resolved: secrets and deployment from the environment, the rest from the file. */
export type Config = CareConfig & { sources: SourcesConfig };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`carebot cannot start; fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_CONFIG_PATH = 'carebot.config.yaml';

/**
 * The environment with empty (or blank) values dropped: `NAME=` in a .env copied from .env.example
 * means unset, everywhere (a left-empty SLACK_SIGNING_SECRET must not stop Socket Mode).
 */
export function setVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') set[name] = value;
  }
  return set;
}

/** Loads and checks the whole configuration, or throws one ConfigError naming every problem. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const env = setVariables(environment);
  const problems: string[] = [];
  const envResult = envSchema.safeParse(env);
  if (!envResult.success) problems.push(...describeIssues(envResult.error.issues));
  // Checked by hand so they are reported together with the other problems, not only once those are fixed.
  for (const source of sources) problems.push(...(source.config.check?.(env) ?? []));
  if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
    problems.push(
      'SLACK_SIGNING_SECRET: missing: set SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET (Basic Information → Signing Secret) for HTTP mode',
    );
  }

  const path = env.CARE_CONFIG ?? DEFAULT_CONFIG_PATH;
  let raw: unknown = {};
  if (existsSync(path)) {
    try {
      raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
      raw = substituteEnv(raw, env, [], problems);
    } catch (err) {
      problems.push(`${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
  } else if (env.CARE_CONFIG) {
    problems.push(`CARE_CONFIG: the file ${path} does not exist`);
  }
  const fileResult = fileSchema.safeParse(raw);
  if (!fileResult.success) problems.push(...describeIssues(fileResult.error.issues, `${path}: `));
  if (fileResult.success) problems.push(...crossCheckCare(fileResult.data, path));
  if (!envResult.success || !fileResult.success || problems.length > 0) throw new ConfigError(problems);

  const e = envResult.data;
  const f = fileResult.data;
  const care = resolveCareConfig(e, f);
  const shared = { careChannelId: care.careChannelId };
  const settings = Object.fromEntries(
    sources.map((s) => [s.platform, s.config.resolve(f.sources[s.platform], e, shared)]),
  );
  return { ...care, sources: settings as SourcesConfig };
}

/** The settings of one source's config part, out of a loaded Config (for sources that share a connection). */
export function settingsOf<Settings>(config: Config, part: SourceConfig<Settings>): Settings {
  const source = sources.find((s) => s.config === part);
  if (!source) throw new Error('settingsOf: that config part belongs to no source in src/sources/index.ts');
  return (config.sources as Record<string, unknown>)[source.platform] as Settings;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const name = issue.path.length ? issue.path.join('.') : '(top level)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys')
      message = `unknown key(s) ${issue.keys.join(', ')}: check the spelling`;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'missing';
    return `${prefix}${name}: ${message}`;
  });
}

/** Replaces `${VAR}` in the file's string values with the environment's value. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push(`${path.join('.')}: \${${name}} is not set in the environment`);
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, String(i)], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], problems)]),
    );
  }
  return value;
}
