import { describe, expect, it } from 'vitest';
import { sandboxBanner } from '../../sandbox/banner.js';
import { decideStartMode, incompleteMessage, realSettings } from '../../src/start-mode.js';

const sandbox = { sandboxAsked: false };
const asked = { sandboxAsked: true };

describe('decideStartMode', () => {
  it('starts the sandbox when nothing real is configured', () => {
    expect(decideStartMode({}, sandbox)).toEqual({ mode: 'sandbox', asked: false, ignored: [] });
    // Settings the sandbox itself reads, and unrelated variables, are not "real".
    expect(
      decideStartMode(
        {
          PORT: '3000',
          LOG_LEVEL: 'debug',
          SANDBOX_REPLY_DELAY: '1s',
          PATH: '/usr/bin',
          NODE_ENV: 'development',
        },
        sandbox,
      ).mode,
    ).toBe('sandbox');
  });

  it('counts an empty or blank variable as unset', () => {
    // A .env copied from .env.example with the values left empty.
    const leftEmpty = {
      SLACK_BOT_TOKEN: '',
      SLACK_SIGNING_SECRET: '',
      DATABASE_URL: '',
      DATA_DIR: ' ',
      NODE_ENV: '',
    };
    expect(decideStartMode(leftEmpty, sandbox)).toEqual({ mode: 'sandbox', asked: false, ignored: [] });
    expect(realSettings(leftEmpty)).toEqual([]);
    // An empty token is no token: with a database set, that is a half-configured deployment.
    expect(decideStartMode({ SLACK_BOT_TOKEN: '', DATABASE_URL: 'postgres://db/care' }, sandbox).mode).toBe(
      'incomplete',
    );
  });

  it('runs the real carebot when SLACK_BOT_TOKEN is set', () => {
    expect(decideStartMode({ SLACK_BOT_TOKEN: 'xoxb-1' }, sandbox)).toEqual({ mode: 'real' });
    expect(
      decideStartMode(
        { SLACK_BOT_TOKEN: 'xoxb-1', DATABASE_URL: 'postgres://db/care', NODE_ENV: 'production' },
        sandbox,
      ),
    ).toEqual({ mode: 'real' });
  });

  it.each([
    [{ DATABASE_URL: 'postgres://db/care' }, ['DATABASE_URL']],
    [{ DATA_DIR: '/var/lib/carebot' }, ['DATA_DIR']],
    [{ SLACK_SIGNING_SECRET: 'shh' }, ['SLACK_SIGNING_SECRET']],
    [{ SLACK_APP_TOKEN: 'xapp-1' }, ['SLACK_APP_TOKEN']],
    [{ SLACK_API_URL: 'http://127.0.0.1:9/api/' }, ['SLACK_API_URL']],
    [{ NODE_ENV: 'production' }, ['NODE_ENV=production']],
    [
      { NODE_ENV: 'production', DATA_DIR: './data', SLACK_SIGNING_SECRET: 'shh' },
      ['DATA_DIR', 'SLACK_SIGNING_SECRET', 'NODE_ENV=production'],
    ],
  ])('refuses a half-configured environment: %j', (env, found) => {
    const start = decideStartMode(env, sandbox);
    expect(start.mode).toBe('incomplete');
    if (start.mode !== 'incomplete') return;
    expect(start.found).toEqual(found);
    expect(start.missing[0]).toMatch(/^SLACK_BOT_TOKEN: /);
  });

  it('lists exactly what is missing', () => {
    const all = decideStartMode({ DATABASE_URL: 'postgres://db/care' }, sandbox);
    expect(all.mode === 'incomplete' && all.missing.map((m) => m.split(/[: ]/)[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'SLACK_APP_TOKEN',
      'CARE_CHANNEL_ID',
    ]);
    const onlyToken = decideStartMode({ SLACK_SIGNING_SECRET: 'shh', CARE_CHANNEL_ID: 'C0123ABCD' }, sandbox);
    expect(onlyToken.mode === 'incomplete' && onlyToken.missing.map((m) => m.split(/[: ]/)[0])).toEqual([
      'SLACK_BOT_TOKEN',
    ]);
  });

  it('names settings, never their values, in the error', () => {
    const start = decideStartMode(
      { DATABASE_URL: 'postgres://carebot:s3cret-pass@db/care', SLACK_SIGNING_SECRET: 'sign-me-secret' },
      sandbox,
    );
    if (start.mode !== 'incomplete') throw new Error(`expected incomplete, got ${start.mode}`);
    const message = incompleteMessage(start);
    expect(message).toContain('DATABASE_URL, SLACK_SIGNING_SECRET are set');
    expect(message).toContain('  - SLACK_BOT_TOKEN: ');
    expect(message).toContain('npm run sandbox');
    expect(message).not.toContain('s3cret-pass');
    expect(message).not.toContain('sign-me-secret');
  });

  it('starts the sandbox when asked, whatever is configured, and says what it ignores', () => {
    expect(decideStartMode({}, asked)).toEqual({ mode: 'sandbox', asked: true, ignored: [] });
    const start = decideStartMode(
      {
        SLACK_BOT_TOKEN: 'xoxb-1',
        DATABASE_URL: 'postgres://db/care',
        DATA_DIR: './data',
        NODE_ENV: 'production',
      },
      asked,
    );
    expect(start).toEqual({ mode: 'sandbox', asked: true, ignored: ['DATABASE_URL', 'DATA_DIR'] });
    if (start.mode !== 'sandbox') return;
    const banner = sandboxBanner(start);
    expect(banner).toMatch(/^carebot SANDBOX /);
    expect(banner).toContain('DATABASE_URL and DATA_DIR ignored');
    expect(banner).not.toContain('\n');
  });
});
