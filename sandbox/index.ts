import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppStoreBrandApp, SandboxAppStore } from '../emulators/app-store/customers.js';
import { SandboxBluesky } from '../emulators/bluesky/customers.js';
import type { CustomerPlatform, CustomerSide } from '../emulators/customer-side.js';
import { SANDBOX_PACKAGE, SandboxGooglePlay } from '../emulators/google-play/customers.js';
import { type FacebookBrandPage, SandboxFacebook } from '../emulators/graph/customers.js';
import { SandboxMastodon } from '../emulators/mastodon/customers.js';
import {
  type ClickedElement,
  type SandboxUser,
  type SlackTarget,
  sendAppHomeOpened,
  sendBlockAction,
  sendMessageEvent,
  sendSlashCommand,
  sendViewSubmission,
  triggerId,
} from '../emulators/slack/interactions.js';
import { type FakeSlack, startFakeSlack } from '../emulators/slack/web-api.js';
import { Forum } from '../emulators/webhook/forum.js';
import { SandboxX, type XBrandAccount } from '../emulators/x/customers.js';
import { loadConfig } from '../src/config.js';
import { type DatabaseHandle, openDatabase } from '../src/db/client.js';
import { BodyTooLarge, readBody, refuseTooLarge, sendJson } from '../src/http/body.js';
import { createHttpServer, type Handler, type Routes } from '../src/http/server.js';
import { createLogger, type LogFormat, type Logger } from '../src/logger.js';
import { type Carebot, type StartOptions, startCarebot } from '../src/main.js';
import { PR_KEYWORDS, playDemo } from './demo.js';
import { apiRequestProblem, hostProblem } from './same-origin.js';
import { Workspace } from './workspace.js';

/**
 * Sandbox mode: carebot against an in-process Slack emulator and simulated platforms (X,
 * Facebook, a forum, Google Play reviews, Mastodon and Bluesky), with a web page (GET /) showing
 * the care channel and the customer side. The sandbox's own HTTP server listens on `port` (loopback
 * only); carebot runs unchanged in HTTP mode on a second, random port, with generated secrets, and its
 * real X, Facebook, Google Play, Mastodon, Bluesky and webhook sources talk to local fake platform APIs: it never
 * talks to real Slack or a real platform.
 */

export const SANDBOX_CHANNEL = 'C0SANDBOX';
export const SANDBOX_USERS: SandboxUser[] = [
  { id: 'U0AGENT01', name: 'sam', realName: 'Sam (care agent)' },
  { id: 'U0PRLEAD1', name: 'priya', realName: 'Priya (PR)' },
  { id: 'U0MANAGER', name: 'morgan', realName: 'Morgan (care manager)' },
  // In training: their replies wait for Morgan's approval (docs/features/approval.md).
  { id: 'U0TRAINEE', name: 'taylor', realName: 'Taylor (trainee)' },
];
const [AGENT, PR_PERSON, MANAGER, TRAINEE] = SANDBOX_USERS as [
  SandboxUser,
  SandboxUser,
  SandboxUser,
  SandboxUser,
];
const USERGROUPS = {
  care: 'S0CARETEAM',
  pr: 'S0PRTEAM',
  managers: 'S0MANAGERS',
  trainees: 'S0TRAINEES',
  approvers: 'S0APPROVERS',
};

export interface SandboxOptions {
  /** The page's port; 0 picks a free one. Default 3000. */
  port?: number;
  /** carebot's undo window before a reply leaves, e.g. "1s". Default 10s. */
  replyDelay?: string;
  /** Turns auto-assignment (round robin) on, handing cases to Sam and Morgan this long after they arrive, e.g. "30s". */
  assignAfter?: string;
  logLevel?: string;
  /** Default `json`; sandbox/start.ts picks `pretty` on a terminal. */
  logFormat?: LogFormat;
  logger?: Logger;
  /** carebot's startCarebot; src/main.ts's own unless a test passes another. */
  startCarebot?: (opts: StartOptions) => Promise<Carebot>;
}

export interface Sandbox {
  url: string;
  port: number;
  carebot: Carebot;
  slack: FakeSlack;
  workspace: Workspace;
  forum: Forum;
  x: SandboxX;
  facebook: SandboxFacebook;
  googlePlay: SandboxGooglePlay;
  mastodon: SandboxMastodon;
  bluesky: SandboxBluesky;
  appStore: SandboxAppStore;
  /** Where each server the sandbox started listens: all on 127.0.0.1. */
  addresses(): Record<
    'page' | 'carebot' | 'slack' | 'x' | 'facebook' | 'googlePlay' | 'mastodon' | 'bluesky' | 'appStore',
    { address: string; port: number }
  >;
  stop(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const logger = opts.logger ?? createLogger(opts.logLevel ?? 'info', undefined, opts.logFormat);
  const slack = await startFakeSlack();
  for (const user of SANDBOX_USERS)
    slack.users.set(user.id, { id: user.id, name: user.name, real_name: user.realName });
  slack.usergroupMembers.set(USERGROUPS.care, [AGENT.id, MANAGER.id, TRAINEE.id]);
  slack.usergroupMembers.set(USERGROUPS.pr, [PR_PERSON.id]);
  slack.usergroupMembers.set(USERGROUPS.managers, [MANAGER.id]);
  slack.usergroupMembers.set(USERGROUPS.trainees, [TRAINEE.id]);
  slack.usergroupMembers.set(USERGROUPS.approvers, [MANAGER.id]);
  const workspace = new Workspace(slack);
  const signingSecret = randomBytes(24).toString('hex');
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;

  let carebotUrl = '';
  const target: SlackTarget = {
    get eventsUrl() {
      return `${carebotUrl}/slack/events`;
    },
    signingSecret,
  };
  const forum = new Forum(webhookSecret, () => `${carebotUrl}/sources/webhook`);
  const x = await SandboxX.start(() => `${carebotUrl}/sources/x/webhook`, logger);
  const facebook = await SandboxFacebook.start(() => `${carebotUrl}/sources/facebook/webhook`, logger);
  const googlePlay = await SandboxGooglePlay.start(logger);
  const mastodon = await SandboxMastodon.start(logger);
  const bluesky = await SandboxBluesky.start(logger);
  const appStore = await SandboxAppStore.start(logger);
  const sides: Record<CustomerPlatform, CustomerSide> = {
    x,
    facebook,
    forum,
    google_play: googlePlay,
    mastodon,
    bluesky,
    app_store: appStore,
  };

  const page = readFileSync(new URL('./page.html', import.meta.url), 'utf8');
  const pageLinks = readFileSync(new URL('./page-links.js', import.meta.url), 'utf8');
  const clients = new Set<ServerResponse>();
  let pending = false;
  const broadcast = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      const data = `data: ${JSON.stringify(snapshot())}\n\n`;
      for (const client of clients) client.write(data);
    });
  };
  const snapshot = () => ({
    channel: SANDBOX_CHANNEL,
    users: SANDBOX_USERS,
    ...workspace.state(),
    customers: [
      ...x.items(),
      ...facebook.items(),
      ...mastodon.items(),
      ...bluesky.items(),
      ...forum.items(),
      ...googlePlay.items(),
      ...appStore.items(),
    ],
  });
  workspace.on('change', broadcast);
  for (const side of Object.values(sides)) side.on('change', broadcast);

  const userOf = (id: unknown): SandboxUser => SANDBOX_USERS.find((u) => u.id === id) ?? AGENT;
  // The page is served while carebot still starts; what it asks of carebot waits until it is up.
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const json = (handler: (body: Record<string, unknown>) => Promise<unknown>): Handler => {
    return async (req, res) => {
      const refused = apiRequestProblem(req);
      if (refused) {
        sendJson(res, refused.status, { error: refused.error });
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse((await readBody(req, 1 << 20)) || '{}') as Record<string, unknown>;
      } catch (err) {
        if (err instanceof BodyTooLarge) refuseTooLarge(req, res, 1 << 20);
        else sendJson(res, 400, { error: 'expected a JSON body' });
        return;
      }
      await ready;
      sendJson(res, 200, (await handler(body)) ?? { ok: true });
    };
  };

  const server = createHttpServer(
    loopbackNamesOnly({
      'GET /': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page);
      },
      'GET /page-links.js': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        res.end(pageLinks);
      },
      'GET /api/state': (_req, res) => sendJson(res, 200, snapshot()),
      'GET /events': (req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.write(`data: ${JSON.stringify(snapshot())}\n\n`);
        clients.add(res);
        req.on('close', () => clients.delete(res));
      },
      'POST /api/action': json(async (b) => {
        const user = userOf(b.userId);
        const trigger = triggerId();
        workspace.rememberTrigger(trigger, user.id);
        const element = b.element as ClickedElement;
        if (typeof b.viewId === 'string') {
          const view = workspace.topView(user.id, b.viewId);
          if (!view) return { error: 'no such view' };
          const values = (b.values ?? {}) as Record<string, Record<string, unknown>>;
          return sendBlockAction(target, {
            user,
            element,
            triggerId: trigger,
            responseUrl: '',
            channelId: SANDBOX_CHANNEL,
            view: { ...view, state: { values } },
          });
        }
        const message = workspace.findMessage(String(b.messageTs), user.id);
        if (!message) return { error: 'no such message' };
        const threadTs = message.threadTs ?? message.ts;
        return sendBlockAction(target, {
          user,
          element,
          triggerId: trigger,
          responseUrl: workspace.responseUrl({
            userId: user.id,
            channel: message.channel,
            threadTs,
            messageTs: message.ts,
          }),
          channelId: message.channel,
          message: {
            ts: message.ts,
            ...(message.threadTs ? { threadTs: message.threadTs } : {}),
            text: message.text,
            blocks: message.blocks ?? [],
            isEphemeral: Boolean(message.ephemeralFor),
          },
        });
      }),
      'POST /api/view-submit': json(async (b) => {
        const user = userOf(b.userId);
        const view = workspace.topView(user.id, String(b.viewId));
        if (!view) return { error: 'no such view' };
        const values = (b.values ?? {}) as Record<string, Record<string, unknown>>;
        const answer = await sendViewSubmission(target, { user, view, values });
        const errors = workspace.applyViewResponse(user.id, String(view.id), answer.body);
        return { status: answer.status, errors };
      }),
      'POST /api/view-close': json(async (b) => {
        workspace.closeView(userOf(b.userId).id, String(b.viewId), true);
        return { ok: true };
      }),
      'POST /api/message': json(async (b) => {
        const user = userOf(b.userId);
        const text = String(b.text ?? '').trim();
        const threadTs = typeof b.threadTs === 'string' && b.threadTs ? b.threadTs : undefined;
        if (!text) return { error: 'empty message' };
        const command = /^(\/[a-z-]+)\s*(.*)$/s.exec(text);
        if (command) {
          const trigger = triggerId();
          workspace.rememberTrigger(trigger, user.id);
          return sendSlashCommand(target, {
            user,
            channelId: SANDBOX_CHANNEL,
            command: command[1] as string,
            text: command[2] ?? '',
            triggerId: trigger,
            responseUrl: workspace.responseUrl({
              userId: user.id,
              channel: SANDBOX_CHANNEL,
              ...(threadTs ? { threadTs } : {}),
            }),
          });
        }
        const message = workspace.addHumanMessage({
          channel: SANDBOX_CHANNEL,
          user: user.id,
          text,
          ...(threadTs ? { threadTs } : {}),
        });
        return sendMessageEvent(target, {
          user,
          channelId: SANDBOX_CHANNEL,
          ts: message.ts,
          text,
          ...(threadTs ? { threadTs } : {}),
        });
      }),
      'POST /api/home': json(async (b) => sendAppHomeOpened(target, userOf(b.userId))),
      'POST /api/customer': json(async (b) => {
        const side = sides[b.platform as CustomerPlatform] ?? (b.platform === undefined ? forum : undefined);
        if (!side)
          return {
            error: 'platform: expected x, facebook, mastodon, bluesky, forum, google_play or app_store',
          };
        if (!String(b.text ?? '').trim()) return { error: 'text: write what the customer says' };
        return side.post({
          name: String(b.name || 'A customer'),
          text: String(b.text ?? ''),
          ...(typeof b.handle === 'string' && b.handle ? { handle: b.handle } : {}),
          ...(Number(b.followers) > 0 ? { followers: Math.floor(Number(b.followers)) } : {}),
          ...(Number(b.stars) >= 1 && Number(b.stars) <= 5 ? { stars: Math.round(Number(b.stars)) } : {}),
          ...(b.direct === true ? { direct: true } : {}),
          ...(typeof b.conversationId === 'string' && b.conversationId
            ? { conversationId: b.conversationId }
            : {}),
        });
      }),
      'POST /api/demo': json(async () => {
        void playDemo(sides).catch((err) => logger.warn({ err }, 'demo failed'));
        return { ok: true };
      }),
      // Files carebot uploads (the /care-stats chart), from the emulator's store.
      'GET /files': (req, res) => {
        const id = new URL(req.url ?? '/', 'http://sandbox').searchParams.get('id') ?? '';
        const bytes = slack.files.get(id)?.bytes;
        if (!bytes) return sendJson(res, 404, { error: 'no such file' });
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(bytes);
      },
      'POST /forum/replies': async (req, res) => {
        const raw = await readBody(req, 1 << 20);
        const answer = forum.receiveReply(raw, req.headers);
        sendJson(res, answer.status, answer.body);
      },
    }),
    logger,
  );
  const port = await listenOnLoopback(server, opts.port ?? 3000);
  const origin = `http://127.0.0.1:${port}`;
  const configDir = mkdtempSync(join(tmpdir(), 'carebot-sandbox-'));
  const configPath = join(configDir, 'carebot.config.yaml');
  writeFileSync(
    configPath,
    sandboxConfigYaml(
      opts.replyDelay ?? '10s',
      x.account,
      facebook.page,
      googlePlay.writeKeyFile(configDir),
      appStore.app,
      opts.assignAfter,
    ),
  );
  const config = loadConfig({
    SLACK_BOT_TOKEN: `xoxb-sandbox-${randomBytes(8).toString('hex')}`,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.url,
    CARE_CHANNEL_ID: SANDBOX_CHANNEL,
    CARE_WEBHOOK_SECRET: webhookSecret,
    CARE_WEBHOOK_REPLY_URL: `${origin}/forum/replies`,
    // The sandbox's forum is on loopback.
    CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
    CARE_CONFIG: configPath,
    X_API_URL: x.url,
    GRAPH_API_URL: facebook.url,
    GOOGLE_PLAY_API_URL: googlePlay.url,
    MASTODON_URL: mastodon.url,
    MASTODON_ACCESS_TOKEN: mastodon.account.accessToken,
    BLUESKY_IDENTIFIER: bluesky.account.identifier,
    BLUESKY_APP_PASSWORD: bluesky.account.appPassword,
    BLUESKY_SERVICE_URL: bluesky.url,
    APP_STORE_API_URL: appStore.url,
    PORT: '0',
    LOG_LEVEL: opts.logLevel ?? 'info',
  });
  let database: DatabaseHandle | undefined;
  let carebot: Carebot;
  try {
    // Always fresh and in memory: the sandbox's fake Slack and forum must never see real cases.
    database = await openDatabase({ memory: true });
    const start = opts.startCarebot ?? startCarebot;
    carebot = await start({ config, logger, database, host: '127.0.0.1' });
  } catch (err) {
    await database?.close().catch(() => {});
    server.closeAllConnections();
    server.close();
    await Promise.all([
      slack.close(),
      x.close(),
      facebook.close(),
      googlePlay.close(),
      mastodon.close(),
      bluesky.close(),
      appStore.close(),
    ]);
    throw err;
  }
  carebotUrl = `http://127.0.0.1:${carebot.port}`;
  // As the platforms do when a webhook is registered: X's CRC check, Meta's verify-token handshake.
  await Promise.all([x.checkWebhook(), facebook.checkWebhook()]);
  markReady();
  logger.info({ url: `${origin}/`, carebot: carebotUrl }, 'sandbox ready: open the page');

  return {
    url: origin,
    port,
    carebot,
    slack,
    workspace,
    forum,
    x,
    facebook,
    googlePlay,
    mastodon,
    bluesky,
    appStore,
    addresses: () => ({
      page: server.address() as AddressInfo,
      carebot: { address: carebot.host, port: carebot.port },
      slack: slack.address,
      x: x.address,
      facebook: facebook.address,
      googlePlay: googlePlay.address,
      mastodon: mastodon.address,
      bluesky: bluesky.address,
      appStore: appStore.address,
    }),
    stop: async () => {
      for (const client of clients) client.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await carebot.stop();
      await database?.close();
      await Promise.all([
        slack.close(),
        x.close(),
        facebook.close(),
        googlePlay.close(),
        mastodon.close(),
        bluesky.close(),
        appStore.close(),
      ]);
    },
  };
}

function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * The sandbox's carebot.config.yaml: teams, rules and groups that match the emulated workspace, and
 * the X account and Facebook Page of the simulated platforms (values quoted as JSON, which YAML reads).
 */
function sandboxConfigYaml(
  replyDelay: string,
  xAccount: XBrandAccount,
  page: FacebookBrandPage,
  playKeyFile: string,
  app: AppStoreBrandApp,
  assignAfter: string | undefined,
): string {
  const q = JSON.stringify;
  return [
    'business_hours: always',
    `reply_delay: ${replyDelay}`,
    // Short, so "Waiting on customer" shows its nudge and its automatic resolution within minutes.
    'auto_resolve: { after: 3m, nudge_after: 1m }',
    ...(assignAfter ? [`assignment: { mode: round_robin, after: ${q(assignAfter)} }`] : []),
    `care_team_usergroup: ${USERGROUPS.care}`,
    `managers_usergroup: ${USERGROUPS.managers}`,
    // Only private conversations are asked (a Mastodon private mention in the sandbox): public flows are untouched.
    'csat: { enabled: true }',
    `approval: { trainees_usergroup: ${USERGROUPS.trainees}, approvers_usergroup: ${USERGROUPS.approvers} }`,
    'teams:',
    `  - { key: pr, name: PR, usergroup: ${USERGROUPS.pr} }`,
    'escalation:',
    '  rules:',
    '    - { when: followers, over: 10000, priority: P1 }',
    `    - { when: keywords, keywords: [${PR_KEYWORDS.join(', ')}], team: pr, priority: P1 }`,
    'sources:',
    '  x:',
    '    accounts:',
    `      - { name: ${q(xAccount.name)}, user_id: ${q(xAccount.userId)}, consumer_key: ${q(xAccount.consumerKey)}, consumer_secret: ${q(xAccount.consumerSecret)}, access_token: ${q(xAccount.accessToken)}, access_secret: ${q(xAccount.accessSecret)} }`,
    '  facebook:',
    '    pages:',
    `      - { name: ${q(page.name)}, page_id: ${q(page.pageId)}, page_token: ${q(page.pageToken)}, app_secret: ${q(page.appSecret)}, verify_token: ${q(page.verifyToken)} }`,
    '  google_play:',
    '    poll_every: 10s',
    // The emulator starts empty: a review posted before the first poll is still the sandbox's.
    '    backfill: 1h',
    '    accounts:',
    `      - { name: acme_shop, package_name: ${SANDBOX_PACKAGE}, credentials_file: ${q(playKeyFile)} }`,
    // Mastodon has no webhook for mentions: a short interval shows a complaint within seconds.
    '  mastodon:',
    '    poll_every: 3s',
    // Nor has Bluesky: its account (BLUESKY_*) is read every 2 seconds.
    '  bluesky:',
    '    poll_every: 2s',
    '  app_store:',
    '    poll_every: 5s',
    '    accounts:',
    `      - { name: ${q(app.name)}, issuer_id: ${q(app.issuerId)}, key_id: ${q(app.keyId)}, private_key: ${q(app.privateKey)}, app_id: ${q(app.appId)} }`,
    '',
  ].join('\n');
}

/** Every route of the sandbox page refuses a request sent to a name that is not a loopback one. */
function loopbackNamesOnly(routes: Routes): Routes {
  return Object.fromEntries(
    Object.entries(routes).map(([route, handler]) => [
      route,
      (req: IncomingMessage, res: ServerResponse) => {
        const problem = hostProblem(req);
        if (problem) return sendJson(res, problem.status, { error: problem.error });
        return handler(req, res);
      },
    ]),
  );
}
