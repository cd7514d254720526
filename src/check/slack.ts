import { webApi } from '@slack/bolt';
import type { Config } from '../config.js';
import { classifySlackError } from '../slack/errors.js';
import type { CheckLine } from '../sources/types.js';

/**
 * The bot token scopes carebot needs: the `oauth_config.scopes.bot` of manifest.yml (a test keeps the
 * two the same). Slack lists a token's scopes in the `x-oauth-scopes` header of every answer.
 */
export const REQUIRED_BOT_SCOPES = [
  'chat:write',
  'chat:write.public',
  'channels:history',
  'groups:history',
  'channels:read',
  'groups:read',
  'commands',
  'reactions:write',
  'usergroups:read',
  'users:read',
  'users.profile:read',
  'files:write',
] as const;

/**
 * Scopes the manifest asks for that only some settings use: checked only when in use, so an
 * installation made before a feature existed passes `npm run check` until it turns the feature on.
 */
const SCOPE_USED_WHEN: Partial<Record<(typeof REQUIRED_BOT_SCOPES)[number], (config: Config) => boolean>> = {
  // Away statuses for auto-assignment (users.profile.get).
  'users.profile:read': (config) => config.assignment.mode === 'round_robin',
};

/** The scopes this configuration needs. */
export function neededScopes(config: Config): string[] {
  return REQUIRED_BOT_SCOPES.filter((scope) => SCOPE_USED_WHEN[scope]?.(config) ?? true);
}

const REINSTALL =
  'add them under OAuth & Permissions → Bot Token Scopes (or paste manifest.yml again under App Manifest), then reinstall the app to the workspace';

type Client = InstanceType<typeof webApi.WebClient>;

function client(token: string, config: Config, timeoutMs: number): Client {
  // No logger: a failed call is a check line, not a log line. No retries: one answer is the answer.
  return new webApi.WebClient(token, {
    slackApiUrl: config.slack.apiUrl,
    logLevel: webApi.LogLevel.ERROR,
    logger: silentLogger,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: timeoutMs,
  });
}

/** Slack's error code of a failed call (`invalid_auth`, `channel_not_found`…), or what went wrong on the way. */
const slackError = (err: unknown): string => classifySlackError(err).reason;

/** The bot token, its scopes, the channels, the user groups, and the Socket Mode token or signing secret. */
export async function checkSlack(config: Config, timeoutMs: number): Promise<CheckLine[]> {
  const bot = client(config.slack.botToken, config, timeoutMs);
  const lines: CheckLine[] = [];
  let auth: Awaited<ReturnType<Client['auth']['test']>>;
  try {
    auth = await bot.auth.test();
  } catch (err) {
    const code = slackError(err);
    lines.push({
      ok: false,
      what: `Slack bot token refused (${code})`,
      fix:
        code === 'invalid_auth' ||
        code === 'not_authed' ||
        code === 'token_revoked' ||
        code === 'account_inactive'
          ? "copy the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page into SLACK_BOT_TOKEN (install the app to the workspace first)"
          : 'check the network, or SLACK_API_URL',
    });
    lines.push(await checkConnection(config, timeoutMs));
    return lines;
  }
  lines.push({
    ok: true,
    what: `Slack bot token works (@${auth.user ?? 'the bot'} in ${auth.team ?? 'the workspace'})`,
  });
  lines.push(scopeLine(auth.response_metadata?.scopes, neededScopes(config)));
  lines.push(...(await checkChannels(bot, config, auth.user ?? 'carebot')));
  lines.push(...(await checkUsergroups(bot, config)));
  lines.push(await checkConnection(config, timeoutMs));
  return lines;
}

function scopeLine(granted: string[] | undefined, needed: string[]): CheckLine {
  if (!granted)
    return {
      ok: false,
      what: 'Slack did not say which scopes the bot token has',
      fix: 'check SLACK_API_URL points at the Slack Web API',
    };
  const missing = needed.filter((scope) => !granted.includes(scope));
  if (missing.length === 0)
    return { ok: true, what: `Slack bot token has the ${needed.length} scopes carebot needs` };
  return { ok: false, what: `Slack bot token lacks scope(s): ${missing.join(', ')}`, fix: REINSTALL };
}

/** Every channel the configuration posts to, with what it is for. */
function configuredChannels(config: Config): Map<string, string[]> {
  // Other settings fall back on the care channel: only a channel of their own is named for them.
  const careChannel = config.careChannelId;
  const uses = new Map<string, string[]>([[careChannel, ['the care channel, CARE_CHANNEL_ID']]]);
  const add = (id: string | null | undefined, use: string) => {
    if (!id || id === careChannel) return;
    const list = uses.get(id) ?? [];
    if (!list.includes(use)) list.push(use);
    uses.set(id, list);
  };
  add(config.crisis.channelId, 'crisis.channel');
  add(config.stats.digestChannel, 'stats.digest_channel');
  // Each source's settings hold `channel` for itself and for each account, Page or feed.
  const walk = (value: unknown, platform: string) => {
    if (Array.isArray(value)) for (const item of value) walk(item, platform);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'channel' && typeof inner === 'string') add(inner, `sources.${platform}`);
        else walk(inner, platform);
      }
    }
  };
  for (const [platform, settings] of Object.entries(config.sources)) walk(settings, platform);
  return uses;
}

async function checkChannels(bot: Client, config: Config, botName: string): Promise<CheckLine[]> {
  const channels = [...configuredChannels(config)];
  return Promise.all(
    channels.map(async ([id, uses]): Promise<CheckLine> => {
      const what = `Slack channel ${id} (${uses.join('; ')})`;
      try {
        const info = await bot.conversations.info({ channel: id });
        const name = info.channel?.name ? `#${info.channel.name}` : id;
        if (info.channel?.is_archived)
          return {
            ok: false,
            what: `${what}: ${name} is archived`,
            fix: 'unarchive it, or configure another channel',
          };
        if (!info.channel?.is_member)
          return {
            ok: false,
            what: `${what}: carebot is not a member of ${name}`,
            fix: `invite it: type /invite @${botName} in ${name}`,
          };
        return { ok: true, what: `${what}: carebot is a member of ${name}` };
      } catch (err) {
        const code = slackError(err);
        return {
          ok: false,
          what: `${what}: ${code}`,
          fix:
            code === 'channel_not_found'
              ? `check the id (channel details → About, at the bottom); for a private channel, invite @${botName} first`
              : code === 'missing_scope'
                ? `add channels:read and groups:read, ${REINSTALL}`
                : 'run the check again; if it stays, see status.slack.com',
        };
      }
    }),
  );
}

/** Every user group the configuration names, with what it is for. */
function configuredUsergroups(config: Config): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const add = (id: string | null | undefined, use: string) => {
    if (!id) return;
    uses.set(id, [...(uses.get(id) ?? []), use]);
  };
  add(config.careTeamUsergroup, 'care_team_usergroup');
  add(config.managersUsergroup, 'managers_usergroup');
  for (const team of config.teams) add(team.usergroup, `team ${team.key}`);
  for (const target of config.crisis.mention) if (/^S[A-Z0-9]+$/.test(target)) add(target, 'crisis.mention');
  return uses;
}

async function checkUsergroups(bot: Client, config: Config): Promise<CheckLine[]> {
  const wanted = [...configuredUsergroups(config)];
  if (wanted.length === 0) return [];
  let known: Map<string, { handle?: string | undefined; disabled: boolean }>;
  try {
    const list = await bot.usergroups.list({ include_disabled: true });
    known = new Map(
      (list.usergroups ?? []).flatMap((g) =>
        g.id ? [[g.id, { handle: g.handle, disabled: Boolean(g.date_delete && g.date_delete > 0) }]] : [],
      ),
    );
  } catch (err) {
    const code = slackError(err);
    return [
      {
        ok: false,
        what: `Slack user groups could not be listed (${code})`,
        fix: code === 'missing_scope' ? `add usergroups:read, ${REINSTALL}` : 'run the check again later',
      },
    ];
  }
  return wanted.map(([id, uses]): CheckLine => {
    const what = `Slack user group ${id} (${uses.join('; ')})`;
    const group = known.get(id);
    if (!group)
      return {
        ok: false,
        what: `${what}: no such user group in the workspace`,
        fix: "copy the id from the group's page in Slack (People → User groups → the group: the S… id in its URL) into the config",
      };
    if (group.disabled)
      return {
        ok: false,
        what: `${what}: @${group.handle ?? id} is disabled`,
        fix: 'enable it in Slack, or configure another group',
      };
    return { ok: true, what: `${what}: @${group.handle ?? id} found` };
  });
}

/** Socket Mode: the app-level token may open a connection (the URL is asked for, never opened). HTTP mode: the signing secret is set. */
async function checkConnection(config: Config, timeoutMs: number): Promise<CheckLine> {
  const { appToken, signingSecret } = config.slack;
  if (!appToken) {
    return signingSecret
      ? {
          ok: true,
          what: 'HTTP mode: SLACK_SIGNING_SECRET is set (Slack must reach POST /slack/events on this server)',
        }
      : {
          ok: false,
          what: 'Neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set',
          fix: 'set SLACK_APP_TOKEN for Socket Mode',
        };
  }
  try {
    await client(appToken, config, timeoutMs).apps.connections.open();
    return { ok: true, what: 'Socket Mode: SLACK_APP_TOKEN may open a connection' };
  } catch (err) {
    const code = slackError(err);
    return {
      ok: false,
      what: `Socket Mode: SLACK_APP_TOKEN refused (${code})`,
      fix:
        code === 'not_allowed_token_type' || code === 'missing_scope'
          ? 'generate an app-level token with connections:write (Basic Information → App-Level Tokens) and turn Socket Mode on'
          : code === 'invalid_auth' || code === 'not_authed' || code === 'token_revoked'
            ? 'generate a new app-level token (Basic Information → App-Level Tokens, scope connections:write) into SLACK_APP_TOKEN'
            : 'check the network, or SLACK_API_URL',
    };
  }
}

const silentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};
