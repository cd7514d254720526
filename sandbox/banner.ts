import type { StartMode } from '../src/start-mode.js';

/** The sandbox's first line: says what it is before anything else is printed. */
export function sandboxBanner(mode: Extract<StartMode, { mode: 'sandbox' }>): string {
  const why = mode.asked ? 'npm run sandbox' : 'nothing real is configured: no SLACK_BOT_TOKEN';
  const ignored =
    mode.ignored.length > 0 ? `; ${mode.ignored.join(' and ')} ignored, the sandbox keeps its own data` : '';
  return `carebot SANDBOX (${why}): fake Slack, fake X, Facebook, Mastodon, Bluesky and forum, fresh in-memory data, loopback only${ignored}. No real workspace or customer is reached.`;
}
