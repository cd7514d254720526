import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type FakeFeed, startFakeFeed } from '../../emulators/feed/server.js';
import { type FakeGraph, startFakeGraph } from '../../emulators/graph/api.js';
import { type FakeReddit, startFakeReddit } from '../../emulators/reddit/api.js';
import { FAKE_BOT_SCOPES, type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
import { type FakeX, startFakeX } from '../../emulators/x/api.js';
import { formatCheckLine, runSetupCheck, type SetupCheckResult } from '../../src/check/index.js';
import { REQUIRED_BOT_SCOPES } from '../../src/check/slack.js';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { startCarebot } from '../../src/main.js';
import { createTestDatabase } from '../support/database.js';

/**
 * `npm run check` against the fakes: every part right gives ✓ lines only; each thing a person gets
 * wrong gives one ✗ line that says what to do, and the run fails. No secret is ever printed.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const BOT_TOKEN = 'xoxb-0000-check-bot-token-s3cret';
const APP_TOKEN = 'xapp-1-A0CAREBOT-check-app-token-s3cret';
const CARE_CHANNEL = 'C0CARE0001';
const X_CHANNEL = 'C0XCARE001';
const CARE_TEAM = 'S0CARETEAM';
const X_USER_ID = '1234567890';
const X = {
  consumerKey: 'x-check-consumer-key',
  consumerSecret: 'x-check-consumer-s3cret',
  accessToken: `${X_USER_ID}-x-check-access-token`,
  accessSecret: 'x-check-access-s3cret',
  userId: X_USER_ID,
};
const PAGE = {
  name: 'default',
  pageId: '100200300',
  pageToken: 'EAAB-check-page-token-s3cret',
  appSecret: 'fb-check-app-s3cret',
  verifyToken: 'fb-check-verify-s3cret',
  instagramAccountId: '17841400000000001',
  channel: CARE_CHANNEL,
};
const REDDIT = {
  clientId: 'rd-check-client-id',
  clientSecret: 'rd-check-client-s3cret',
  username: 'AcmeCare',
  password: 'rd-check-password-s3cret',
};
const WEBHOOK_SECRET = `whsec_${Buffer.from('carebot-check-webhook-secret-01').toString('base64')}`;
const SECRETS = [
  BOT_TOKEN,
  APP_TOKEN,
  X.consumerSecret,
  X.accessToken,
  X.accessSecret,
  PAGE.pageToken,
  PAGE.appSecret,
  PAGE.verifyToken,
  REDDIT.clientSecret,
  REDDIT.password,
  WEBHOOK_SECRET,
];

let slack: FakeSlack;
let x: FakeX;
let graph: FakeGraph;
let reddit: FakeReddit;
let feed: FakeFeed;
let replyReceiver: Server;
let replyUrl: string;
let db: DatabaseHandle;
/** Opened before any test: starting PGlite holds the CPU for seconds, which no test should measure. */
let unmigrated: DatabaseHandle;
let partlyMigrated: DatabaseHandle;
const dir = mkdtempSync(join(tmpdir(), 'carebot-check-'));

const RSS = {
  type: 'rss' as const,
  title: 'Forum',
  items: [{ id: '1', title: 'Hello', content: 'It broke' }],
};

function configFile(extra = ''): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    `care_team_usergroup: ${CARE_TEAM}
sources:
  x: { channel: ${X_CHANNEL} }
  rss:
    allow_private_network: true
    feeds:
      - { name: forum, url: "${feed.url('/forum.xml')}" }
${extra}`,
  );
  return path;
}

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.url,
    CARE_CHANNEL_ID: CARE_CHANNEL,
    CARE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CARE_WEBHOOK_REPLY_URL: replyUrl,
    CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
    X_USER_ID,
    X_CONSUMER_KEY: X.consumerKey,
    X_CONSUMER_SECRET: X.consumerSecret,
    X_ACCESS_TOKEN: X.accessToken,
    X_ACCESS_SECRET: X.accessSecret,
    X_API_URL: x.url,
    FACEBOOK_PAGE_ID: PAGE.pageId,
    FACEBOOK_PAGE_TOKEN: PAGE.pageToken,
    FACEBOOK_APP_SECRET: PAGE.appSecret,
    FACEBOOK_VERIFY_TOKEN: PAGE.verifyToken,
    INSTAGRAM_ACCOUNT_ID: PAGE.instagramAccountId,
    GRAPH_API_URL: graph.url,
    REDDIT_CLIENT_ID: REDDIT.clientId,
    REDDIT_CLIENT_SECRET: REDDIT.clientSecret,
    REDDIT_USERNAME: REDDIT.username,
    REDDIT_PASSWORD: REDDIT.password,
    REDDIT_API_URL: reddit.url,
    CARE_CONFIG: configFile(),
    ...over,
  };
}

async function check(over: Record<string, string> = {}, database = db.db): Promise<SetupCheckResult> {
  return runSetupCheck(loadConfig(env(over)), { database });
}

const printed = (result: SetupCheckResult) => result.lines.map(formatCheckLine);
const failures = (result: SetupCheckResult) => printed(result).filter((line) => line.startsWith('✗'));

function expectNoSecrets(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

beforeAll(async () => {
  slack = await startFakeSlack();
  x = await startFakeX({ credentials: [X] });
  x.addUser({ id: X_USER_ID, username: 'acmecare', name: 'Acme Care' });
  graph = await startFakeGraph({ pages: [PAGE] });
  reddit = await startFakeReddit({ credentials: [REDDIT] });
  feed = await startFakeFeed();
  // A reply receiver takes signed POSTs only; to the check's GET it answers 405, which is an answer.
  replyReceiver = createServer((req, res) => {
    req.resume();
    res.writeHead(req.method === 'POST' ? 200 : 405, { allow: 'POST' }).end();
  });
  replyReceiver.listen(0, '127.0.0.1');
  await once(replyReceiver, 'listening');
  replyUrl = `http://127.0.0.1:${(replyReceiver.address() as AddressInfo).port}/replies?token=reply-url-s3cret`;
  SECRETS.push('reply-url-s3cret');
  db = await createTestDatabase();
  unmigrated = await openDatabase({ memory: true });
  partlyMigrated = await openDatabase({ memory: true });
  await partlyMigrated.migrate();
  // The newest migration, as if this version's were not applied yet.
  await partlyMigrated.db.execute(
    sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`,
  );
  // Three embedded databases and two migrations: on a busy CI machine that is more than 30 s.
}, 120_000);

afterAll(async () => {
  await Promise.all([
    unmigrated?.close(),
    partlyMigrated?.close(),
    slack?.close(),
    x?.close(),
    graph?.close(),
    reddit?.close(),
    feed?.close(),
    db?.close(),
  ]);
  replyReceiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  slack.reset();
  slack.usergroupMembers.set(CARE_TEAM, ['U0AGENT01']);
  // apps.connections.open hands out a URL; the check never opens it.
  slack.socketModeUrl = 'ws://127.0.0.1:9/never-opened';
  feed.setFeed('/forum.xml', RSS);
});

describe('npm run check', () => {
  it('prints only ✓ lines when everything is right, covering Slack, each source and the database', async () => {
    const result = await check();
    expect(failures(result)).toEqual([]);
    expect(result.ok).toBe(true);
    const text = printed(result).join('\n');
    expect(text).toContain('✓ Slack bot token works');
    // users.profile:read is asked for by the manifest but needed only with auto-assignment on.
    expect(text).toContain(
      `✓ Slack bot token has the ${REQUIRED_BOT_SCOPES.length - 1} scopes carebot needs`,
    );
    expect(text).toContain(`✓ Slack channel ${CARE_CHANNEL}`);
    expect(text).toContain(`✓ Slack channel ${X_CHANNEL} (sources.x): carebot is a member`);
    expect(text).toContain(`✓ Slack user group ${CARE_TEAM} (care_team_usergroup)`);
    expect(text).toContain('✓ Socket Mode: SLACK_APP_TOKEN may open a connection');
    expect(text).toContain('✓ X account "default": signs in as @acmecare');
    expect(text).toContain('✓ Facebook Page "default": the Page token works');
    expect(text).toContain('✓ Instagram account 17841400000000001 (Page "default"): readable as @brand');
    expect(text).toContain('✓ Reddit account "default": signs in as u/AcmeCare');
    expect(text).toContain('✓ RSS feed "forum": 1 item(s)');
    expect(text).toContain('✓ Generic webhook: reply_url on 127.0.0.1');
    expect(text).toMatch(/✓ Database: .* all \d+ migrations applied/);
    expectNoSecrets(text);
  });

  it('is read-only: nothing is posted to Slack, X, Graph or the reply URL', async () => {
    const [xBefore, graphBefore, redditBefore] = [x.calls.length, graph.calls.length, reddit.calls.length];
    await check();
    const slackMethods = new Set(slack.calls.map((c) => c.method));
    expect([...slackMethods].sort()).toEqual(
      ['apps.connections.open', 'auth.test', 'conversations.info', 'usergroups.list'].sort(),
    );
    expect(x.calls.slice(xBefore).every((c) => c.method === 'GET')).toBe(true);
    expect(graph.calls.slice(graphBefore).every((c) => c.method === 'GET')).toBe(true);
    expect(
      reddit.calls
        .slice(redditBefore)
        .filter((c) => c.method === 'POST')
        .map((c) => c.path),
    ).toEqual(['/api/v1/access_token']);
  });

  it('a refused bot token: one ✗ line saying where the right token is', async () => {
    slack.invalidTokens.add(BOT_TOKEN);
    const result = await check();
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ Slack bot token refused \(invalid_auth\) — copy the Bot User OAuth Token .* into SLACK_BOT_TOKEN/,
      ),
    ]);
    expectNoSecrets(printed(result).join('\n'));
  });

  it('a missing scope: names it and says to reinstall', async () => {
    slack.scopes = FAKE_BOT_SCOPES.filter((s) => s !== 'reactions:write');
    const result = await check();
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ Slack bot token lacks scope\(s\): reactions:write — add them .* reinstall the app/,
      ),
    ]);
  });

  it('the status scope is needed only once auto-assignment is on', async () => {
    slack.scopes = FAKE_BOT_SCOPES.filter((s) => s !== 'users.profile:read');
    expect(failures(await check())).toEqual([]);
    const on = await check({ CARE_CONFIG: configFile('assignment: { mode: round_robin }\n') });
    expect(on.ok).toBe(false);
    expect(failures(on)).toEqual([
      expect.stringMatching(
        /^✗ Slack bot token lacks scope\(s\): users.profile:read — add them .* reinstall/,
      ),
    ]);
  });

  it('the bot not in the care channel: says to invite it', async () => {
    slack.channelsWithoutBot.add(CARE_CHANNEL);
    const result = await check();
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^✗ Slack channel ${CARE_CHANNEL} \\(the care channel, CARE_CHANNEL_ID\\): carebot is not a member of #care — invite it: type /invite @carebot in #care`,
        ),
      ),
    ]);
  });

  it('a user group that does not exist: names the setting and where the id is', async () => {
    slack.usergroupMembers.delete(CARE_TEAM);
    const result = await check();
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^✗ Slack user group ${CARE_TEAM} \\(care_team_usergroup\\): no such user group in the workspace — copy the id`,
        ),
      ),
    ]);
  });

  it('a bad app-level token: Socket Mode refused, with what to generate', async () => {
    slack.invalidTokens.add(APP_TOKEN);
    const result = await check();
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ Socket Mode: SLACK_APP_TOKEN refused \(invalid_auth\) — generate a new app-level token/,
      ),
    ]);
  });

  it('a Graph page token refused: says to generate a new one', async () => {
    const result = await check({ FACEBOOK_PAGE_TOKEN: 'EAAB-some-other-token-s3cret' });
    SECRETS.push('EAAB-some-other-token-s3cret');
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ The Facebook Page token of "default" has expired or was revoked .*— Generate a new Page access token for "default".* update FACEBOOK_PAGE_TOKEN/,
      ),
    ]);
    expectNoSecrets(printed(result).join('\n'));
  });

  it('an Instagram account the Page cannot read: says to link it and grant instagram_basic', async () => {
    const result = await check({ INSTAGRAM_ACCOUNT_ID: '17841400000000999' });
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ Instagram account 17841400000000999 \(Page "default"\): not readable with the Page token \(.*\) — check that the account is the Instagram professional account linked to the Page; Grant the app instagram_basic/,
      ),
    ]);
  });

  it('a feed that returns HTML: not a valid feed, check its url', async () => {
    feed.setRaw(
      '/forum.xml',
      '<!doctype html><html><body><p>Welcome to the forum</p></body></html>',
      'text/html',
    );
    const result = await check();
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ RSS feed "forum" is not a valid RSS or Atom feed \(.*\) — check url of the feed "forum" under sources.rss.feeds/,
      ),
    ]);
    // The feed's URL is not printed (private feed URLs carry tokens).
    expect(printed(result).join('\n')).not.toContain(feed.url('/forum.xml'));
  });

  it('X credentials refused: says to regenerate them', async () => {
    const result = await check({ X_ACCESS_SECRET: 'x-wrong-access-s3cret' });
    SECRETS.push('x-wrong-access-s3cret');
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ X account "default": X answered 401.* — In the X developer portal.*regenerate the access token/,
      ),
    ]);
  });

  it('Reddit refusing the password: says what to check', async () => {
    const result = await check({ REDDIT_PASSWORD: 'rd-wrong-password-s3cret' });
    SECRETS.push('rd-wrong-password-s3cret');
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ Reddit account "default": Reddit did not accept the username and password .*— Check REDDIT_USERNAME and REDDIT_PASSWORD/,
      ),
    ]);
    expectNoSecrets(printed(result).join('\n'));
  });

  it('a reply_url nobody answers at: says to check it, naming the host only', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const result = await check({ CARE_WEBHOOK_REPLY_URL: `http://127.0.0.1:${port}/hook?key=gone-s3cret` });
    expect(failures(result)).toEqual([
      expect.stringMatching(
        new RegExp(`^✗ Generic webhook: reply_url on 127.0.0.1:${port}: .* — check CARE_WEBHOOK_REPLY_URL`),
      ),
    ]);
    expect(printed(result).join('\n')).not.toContain('gone-s3cret');
  });

  it('the database not migrated: says to start carebot once', async () => {
    const result = await check({}, unmigrated.db);
    expect(result.ok).toBe(false);
    expect(failures(result)).toEqual([
      expect.stringMatching(
        /^✗ Database: .* lacks (\d+) of \1 migrations — start carebot \(this version\) once/,
      ),
    ]);
  });

  it('the database missing one migration: counts it', async () => {
    const result = await check({}, partlyMigrated.db);
    expect(failures(result)).toEqual([expect.stringMatching(/^✗ Database: .* lacks 1 of \d+ migrations/)]);
  });

  it('checks the scopes of manifest.yml, and the fake grants the same', async () => {
    const manifest = parseYaml(readFileSync(join(ROOT, 'manifest.yml'), 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
    };
    expect([...REQUIRED_BOT_SCOPES].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
    expect([...FAKE_BOT_SCOPES].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
  });
});

describe('the check at start-up', () => {
  it('runs in the background once carebot listens, and logs each failed line once (warn), no secret in it', async () => {
    slack.channelsWithoutBot.add(CARE_CHANNEL);
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    // HTTP mode: Socket Mode would try to connect to the fake's URL.
    const config = loadConfig(
      env({ SLACK_APP_TOKEN: '', SLACK_SIGNING_SECRET: 'check-signing-s3cret', PORT: '0' }),
    );
    SECRETS.push('check-signing-s3cret');
    const carebot = await startCarebot({
      config,
      database: db,
      logger: createLogger('info', sink),
      schedule: false,
      setupCheck: true,
    });
    try {
      // Started before the check answered: the check never holds the start.
      expect(logs.some((l) => l.includes('"msg":"carebot started"'))).toBe(true);
      await expect
        .poll(() => logs.filter((l) => l.includes('setup check')).length, { timeout: 10_000 })
        .toBe(1);
      // Every other check passed; nothing more is logged later.
      await slack.waitFor('usergroups.list');
      await new Promise((done) => setTimeout(done, 300));
      const warned = logs.filter((l) => l.includes('setup check'));
      expect(warned).toHaveLength(1);
      const line = JSON.parse(warned[0] as string) as { level: number; msg: string; fix: string };
      expect(line.level).toBe(40);
      expect(line.msg).toMatch(
        new RegExp(`^setup check: Slack channel ${CARE_CHANNEL} .*carebot is not a member of #care$`),
      );
      expect(line.fix).toBe('invite it: type /invite @carebot in #care');
      expectNoSecrets(logs.join('\n'));
    } finally {
      await carebot.stop();
    }
  });

  it('is off unless asked (the test suite and the sandbox start carebot without it)', async () => {
    const config = loadConfig(
      env({ SLACK_APP_TOKEN: '', SLACK_SIGNING_SECRET: 'check-signing-s3cret', PORT: '0' }),
    );
    const carebot = await startCarebot({
      config,
      database: db,
      logger: createLogger('silent'),
      schedule: false,
    });
    await new Promise((done) => setTimeout(done, 300));
    await carebot.stop();
    // auth.test is carebot's own (it learns its workspace); these two only the check calls.
    expect(slack.callsTo('usergroups.list')).toHaveLength(0);
    expect(slack.callsTo('conversations.info')).toHaveLength(0);
  });
});

describe('npm run check as a command', () => {
  it('prints one line a check and exits 1 when one failed, without a secret in its output', async () => {
    // The embedded database as carebot leaves it: created and migrated by a first start.
    const dataDir = join(dir, 'data');
    const embedded = await openDatabase({ dataDir });
    await embedded.migrate();
    await embedded.close();
    slack.channelsWithoutBot.add(X_CHANNEL);
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src', 'check', 'main.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, DATA_DIR: dataDir, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    const lines = out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('✗'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^✗ Slack channel ${X_CHANNEL} \\(sources.x\\): carebot is not a member of #care — invite it`,
        ),
      ),
    ]);
    expect(lines).toContain('✓ X account "default": signs in as @acmecare');
    expect(
      lines.some((l) => /^✓ Database: the embedded database in .* all \d+ migrations applied$/.test(l)),
    ).toBe(true);
    expect(lines.at(-1)).toMatch(/^1 of \d+ checks failed\.$/);
    // Every line but the summary is a check line.
    expect(lines.slice(0, -1).every((l) => l.startsWith('✓ ') || l.startsWith('✗ '))).toBe(true);
    expectNoSecrets(out);
  }, 60_000);
});
