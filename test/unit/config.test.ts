import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hours, minutes, seconds } from '../../src/care/clock.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const base = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_SIGNING_SECRET: 'shh',
  CARE_CHANNEL_ID: 'C0123ABCD',
  CARE_CONFIG: file('empty.yaml', ''),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.slack.apiUrl).toBe('https://slack.com/api/');
    expect(c.database).toEqual({ dataDir: './data' });
    expect(c.port).toBe(3000);
    expect(c.timezone).toBe('UTC');
    expect(c.businessHours).toEqual({
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '09:00',
      end: '18:00',
      holidays: [],
    });
    expect(c.sla).toEqual({
      firstResponse: hours(1),
      nextResponse: hours(1),
      resolution: hours(24),
      checkEvery: seconds(30),
      unclaimedAfter: minutes(10),
      responseWarnings: [50, 80],
      resolutionWarnings: [hours(4), hours(1)],
      breachEscalateTo: null,
      remindOutsideHours: false,
      priorities: {},
      releaseOnBreach: true,
    });
    expect(c.replyDelay).toBe(seconds(10));
    expect(c.teams).toEqual([]);
    expect(c.sources.webhook.channel).toBe('C0123ABCD');
  });

  it('lists every problem at once, by name, without echoing values', () => {
    const problems = problemsOf({
      SLACK_BOT_TOKEN: 'not-a-token-SECRET123',
      PORT: 'eighty',
      CARE_CONFIG: base.CARE_CONFIG,
    });
    const text = problems.join('\n');
    for (const name of ['SLACK_BOT_TOKEN', 'CARE_CHANNEL_ID', 'SLACK_SIGNING_SECRET', 'PORT'])
      expect(text).toContain(name);
    expect(text).not.toContain('SECRET123');
    expect(text).not.toContain('eighty');
  });

  it('reads durations, teams and ${VAR} references from the file', () => {
    const path = file(
      'good.yaml',
      [
        'timezone: Europe/Berlin',
        'business_hours: always',
        'sla: { first_response: 30m, check_every: 15s }',
        'reply_delay: 5s',
        'teams:',
        '  - { key: pr, name: PR, usergroup: S0PR00001 }',
        'sources:',
        '  webhook: { channel: C0FORUM01, secret: "${FORUM_SECRET}", reply_url: https://forum.example/hooks/carebot }',
      ].join('\n'),
    );
    const c = loadConfig({
      ...base,
      CARE_CONFIG: path,
      FORUM_SECRET: 'whsec_Zm9ydW0tc2VjcmV0LWZvcnVtLXNlY3JldA==',
    });
    expect(c.businessHours).toBe('always');
    expect(c.sla.firstResponse).toBe(minutes(30));
    expect(c.sla.resolution).toBe(hours(24));
    expect(c.sla.checkEvery).toBe(seconds(15));
    expect(c.replyDelay).toBe(seconds(5));
    expect(c.teams).toEqual([
      { key: 'pr', name: 'PR', usergroup: 'S0PR00001', users: undefined, ackWithin: minutes(30) },
    ]);
    expect(c.sources.webhook).toEqual({
      channel: 'C0FORUM01',
      secret: 'whsec_Zm9ydW0tc2VjcmV0LWZvcnVtLXNlY3JldA==',
      replyUrl: 'https://forum.example/hooks/carebot',
      allowPrivateNetwork: false,
    });
  });

  it('names bad keys and values in the file', () => {
    const path = file(
      'bad.yaml',
      ['sla: { first_response: soon }', 'reply_dealy: 5s', 'timezone: Mars/Olympus'].join('\n'),
    );
    const text = problemsOf({ ...base, CARE_CONFIG: path }).join('\n');
    expect(text).toContain('sla.first_response: expected a duration');
    expect(text).toContain('reply_dealy');
    expect(text).toContain('timezone');
  });

  it('reports a missing config file and an unset ${VAR}', () => {
    expect(problemsOf({ ...base, CARE_CONFIG: join(dir, 'nope.yaml') }).join('\n')).toContain(
      'does not exist',
    );
    const path = file('var.yaml', 'sources: { webhook: { secret: "${NOT_SET_ANYWHERE}" } }');
    expect(problemsOf({ ...base, CARE_CONFIG: path }).join('\n')).toContain('NOT_SET_ANYWHERE');
  });

  it('needs no signing secret in Socket Mode', () => {
    const c = loadConfig({ ...base, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: 'xapp-1-A1-abc' });
    expect(c.slack.appToken).toBe('xapp-1-A1-abc');
  });

  it('counts an empty variable as unset: a .env copied from .env.example still starts Socket Mode', () => {
    const c = loadConfig({
      ...base,
      SLACK_SIGNING_SECRET: '',
      SLACK_APP_TOKEN: 'xapp-1-A1-abc',
      DATA_DIR: '',
    });
    expect(c.slack).toMatchObject({ appToken: 'xapp-1-A1-abc', signingSecret: undefined });
    expect(c.database).toEqual({ dataDir: './data' });
    // Empty everywhere: the optional X account left blank is off, not half-configured.
    const blank = loadConfig({ ...base, X_USER_ID: '', X_CONSUMER_KEY: '', DATABASE_URL: ' ' });
    expect(blank.sources.x.accounts).toEqual([]);
    expect(blank.database).toEqual({ dataDir: './data' });
    // And an empty value is reported as missing, not as malformed.
    expect(problemsOf({ ...base, SLACK_BOT_TOKEN: '' })).toEqual([
      expect.stringMatching(/^SLACK_BOT_TOKEN: missing/),
    ]);
  });
});

describe('config: network limits', () => {
  it('caps the HTTP server at 1000 connections unless HTTP_MAX_CONNECTIONS says otherwise', () => {
    expect(loadConfig(base).maxConnections).toBe(1000);
    expect(loadConfig({ ...base, HTTP_MAX_CONNECTIONS: '50' }).maxConnections).toBe(50);
    expect(problemsOf({ ...base, HTTP_MAX_CONNECTIONS: '0' }).join('\n')).toMatch(/HTTP_MAX_CONNECTIONS/);
  });

  it('keeps feeds and the reply URL off the private network unless allow_private_network says so', () => {
    const closed = loadConfig({
      ...base,
      CARE_CONFIG: file(
        'closed.yaml',
        ['sources:', '  rss:', '    feeds: [{ name: forum, url: "https://forum.example/feed.xml" }]'].join(
          '\n',
        ),
      ),
    });
    expect(closed.sources.webhook.allowPrivateNetwork).toBe(false);
    expect(closed.sources.rss.feeds.map((f) => f.allowPrivateNetwork)).toEqual([false]);

    const open = loadConfig({
      ...base,
      CARE_CONFIG: file(
        'open.yaml',
        [
          'sources:',
          '  webhook: { allow_private_network: true }',
          '  rss:',
          '    allow_private_network: true',
          '    feeds:',
          '      - { name: intranet, url: "http://10.0.0.5/feed.xml" }',
          '      - { name: public, url: "https://forum.example/feed.xml", allow_private_network: false }',
        ].join('\n'),
      ),
    });
    expect(open.sources.webhook.allowPrivateNetwork).toBe(true);
    expect(open.sources.rss.feeds.map((f) => [f.name, f.allowPrivateNetwork])).toEqual([
      ['intranet', true],
      ['public', false],
    ]);
    expect(
      loadConfig({ ...base, CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true' }).sources.webhook.allowPrivateNetwork,
    ).toBe(true);
    expect(problemsOf({ ...base, CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK: 'yes' }).join('\n')).toMatch(
      /CARE_WEBHOOK_ALLOW_PRIVATE_NETWORK/,
    );
  });
});
