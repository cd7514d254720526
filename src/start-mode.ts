/**
 * Which carebot `npm start` runs: the real one, the sandbox, or neither (DESIGN.md, "Start modes").
 * The sandbox must never be a surprise: it starts only when asked (`npm run sandbox`) or when nothing
 * real is configured at all. Anything in between is a half-configured deployment, and starting the
 * sandbox there would hide the mistake behind a working-looking page.
 */

import { setVariables } from './config.js';

export type StartMode =
  | {
      mode: 'sandbox';
      /** Why: asked with `--sandbox`, or nothing real is configured. */
      asked: boolean;
      /** Real settings present that the sandbox leaves alone (it keeps its own data in memory). */
      ignored: string[];
    }
  | { mode: 'real' }
  | {
      mode: 'incomplete';
      /** The real settings found, which say this is meant to be a deployment. */
      found: string[];
      /** What is missing, one line a setting, with where to find it. */
      missing: string[];
    };

/**
 * Settings that mean "this is a real deployment": any Slack variable, a database, a data folder, or
 * NODE_ENV=production. Each is listed by name only: the values may be secrets.
 */
export function realSettings(env: NodeJS.ProcessEnv): string[] {
  const set = setVariables(env);
  const found = Object.keys(set)
    .filter((name) => name.startsWith('SLACK_') || name === 'DATABASE_URL' || name === 'DATA_DIR')
    .sort();
  if (set.NODE_ENV === 'production') found.push('NODE_ENV=production');
  return found;
}

export function decideStartMode(env: NodeJS.ProcessEnv, opts: { sandboxAsked: boolean }): StartMode {
  const set = setVariables(env);
  const found = realSettings(set);
  if (opts.sandboxAsked) {
    return {
      mode: 'sandbox',
      asked: true,
      ignored: found.filter((s) => s === 'DATABASE_URL' || s === 'DATA_DIR'),
    };
  }
  if (set.SLACK_BOT_TOKEN) return { mode: 'real' };
  if (found.length === 0) return { mode: 'sandbox', asked: false, ignored: [] };
  const missing = [
    "SLACK_BOT_TOKEN: the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page",
  ];
  if (!set.SLACK_APP_TOKEN && !set.SLACK_SIGNING_SECRET) {
    missing.push(
      'SLACK_APP_TOKEN (Socket Mode, an xapp-… token with connections:write) or SLACK_SIGNING_SECRET (HTTP mode, Basic Information → Signing Secret)',
    );
  }
  if (!set.CARE_CHANNEL_ID) {
    missing.push('CARE_CHANNEL_ID: the id of the Slack channel where cases are posted (e.g. C0123ABCD)');
  }
  return { mode: 'incomplete', found, missing };
}

/** The start-up error for a half-configured environment: what was found, what is missing, what to do. */
export function incompleteMessage(mode: Extract<StartMode, { mode: 'incomplete' }>): string {
  return [
    `carebot cannot start: ${mode.found.join(', ')} ${mode.found.length === 1 ? 'is' : 'are'} set, so this looks like a real deployment, but it is missing:`,
    ...mode.missing.map((m) => `  - ${m}`),
    'Set these (in the environment or in .env), or run `npm run sandbox` to try carebot with a fake Slack and fake platforms.',
  ].join('\n');
}

/**
 * The production entry's answer where `npm start` would run the sandbox: the sandbox is a
 * development tool, not part of dist/, so say how to configure carebot and where the sandbox is.
 */
export function noSandboxHereMessage(mode: Extract<StartMode, { mode: 'sandbox' }>): string {
  return [
    mode.asked
      ? 'carebot cannot start the sandbox here: this is the production build (dist/), which does not include it.'
      : 'carebot cannot start: nothing is configured (no SLACK_BOT_TOKEN).',
    'To run carebot, set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode), and CARE_CHANNEL_ID (in the environment or in .env).',
    'To try carebot with a fake Slack and fake platforms, run `npm start` or `npm run sandbox` in a checkout with its development dependencies (`npm ci`).',
  ].join('\n');
}
