import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { boltLogger, chooseLogFormat, createLogger, type LogFormat } from '../../src/logger.js';

/** A logger of the given format writing into an array, one entry a write. */
function capture(format: LogFormat, level = 'info') {
  const writes: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger(level, sink, format), writes };
}

const SECRETS = {
  token: 'xoxb-111-222-secretbottoken',
  headers: { authorization: 'Bearer secret-bearer-value' },
  config: { headers: { Authorization: 'Bearer secret-config-value' } },
  signingSecret: 'secret-signing-value',
};

describe('chooseLogFormat', () => {
  it('picks readable lines for a terminal and JSON for anything else', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    // A stream that is not a tty has no isTTY at all (a pipe, a file, a container's log driver).
    expect(chooseLogFormat(undefined, undefined)).toBe('json');
  });

  it('lets LOG_FORMAT win over the terminal check both ways', () => {
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });
});

describe('LOG_FORMAT in the configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carebot-logger-'));
  const careConfig = join(dir, 'empty.yaml');
  writeFileSync(careConfig, '');
  const base = {
    SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
    SLACK_SIGNING_SECRET: 'shh',
    CARE_CHANNEL_ID: 'C0123ABCD',
    CARE_CONFIG: careConfig,
  };

  it('is unset by default, so the terminal check decides', () => {
    expect(loadConfig(base).logFormat).toBeUndefined();
    expect(loadConfig({ ...base, LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    // An empty variable counts as unset (a .env copied from .env.example).
    expect(loadConfig({ ...base, LOG_FORMAT: '' }).logFormat).toBeUndefined();
  });

  it('refuses a format it does not know, by name', () => {
    expect(() => loadConfig({ ...base, LOG_FORMAT: 'text' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, LOG_FORMAT: 'text' })).toThrow(/LOG_FORMAT/);
  });
});

describe('the JSON format', () => {
  it('writes one JSON object a line with level, time, message and fields', () => {
    const { logger, writes } = capture('json');
    logger.child({ job: 'sla-sweep' }).info({ port: 3000 }, 'carebot started');
    expect(writes).toHaveLength(1);
    const line = JSON.parse(writes[0] as string);
    expect(line).toMatchObject({
      level: 30,
      app: 'carebot',
      job: 'sla-sweep',
      port: 3000,
      msg: 'carebot started',
    });
    expect(typeof line.time).toBe('number');
  });

  it('redacts secrets by path and tokens in Bolt messages', () => {
    const { logger, writes } = capture('json');
    logger.info({ ...SECRETS, err: { secret: 'secret-nested-value' } }, 'request failed');
    boltLogger(logger).warn('retrying with', { token: 'xoxb-999-888-secretinmessage' });
    const text = writes.join('');
    expect(text).toContain('[redacted]');
    expect(text).not.toMatch(
      /secret(bottoken|-bearer-value|-config-value|-signing-value|-nested-value|inmessage)/,
    );
  });
});

describe('the pretty format', () => {
  it('writes one readable line an event: time, level, message, then the fields', () => {
    const { logger, writes } = capture('pretty');
    logger.child({ job: 'sla-sweep' }).warn({ port: 3000 }, 'carebot started');
    expect(writes).toHaveLength(1);
    const line = writes[0] as string;
    // No colour codes: the sink is not a colour terminal.
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: carebot started \{.*\}\n$/);
    expect(line).toContain('"job":"sla-sweep"');
    expect(line).toContain('"port":3000');
    expect(line).not.toContain('"app"');
    expect(() => JSON.parse(line)).toThrow();
  });

  it('shows an error with its message and stack', () => {
    const { logger, writes } = capture('pretty');
    logger.error({ err: new Error('database unreachable') }, 'carebot could not start');
    const text = writes.join('');
    expect(text).toContain('ERROR: carebot could not start');
    expect(text).toContain('database unreachable');
    expect(text).toMatch(/at .*logger\.test\.ts/);
  });

  it('redacts the same secrets as the JSON format', () => {
    const { logger, writes } = capture('pretty');
    logger.info({ ...SECRETS, err: { secret: 'secret-nested-value' } }, 'request failed');
    boltLogger(logger).warn('retrying with', { token: 'xoxb-999-888-secretinmessage' });
    const text = writes.join('');
    expect(text).toContain('[redacted]');
    expect(text).not.toMatch(
      /secret(bottoken|-bearer-value|-config-value|-signing-value|-nested-value|inmessage)/,
    );
  });

  it('writes before the call returns, so its lines keep their order with the sandbox banner', () => {
    // A worker-thread transport would write later and could land below (or split) the lines the
    // sandbox writes itself; pino-pretty here writes synchronously.
    const { logger, writes } = capture('pretty');
    writes.push('carebot SANDBOX (npm run sandbox): …\n');
    logger.info('database ready');
    writes.push('\ncarebot sandbox ready: open http://127.0.0.1:3000/\n\n');
    logger.info('first poll');
    expect(writes.map((w) => w.trim().replace(/^\[[^\]]+\] /, ''))).toEqual([
      'carebot SANDBOX (npm run sandbox): …',
      'INFO: database ready',
      'carebot sandbox ready: open http://127.0.0.1:3000/',
      'INFO: first poll',
    ]);
  });

  it('honours the level', () => {
    const { logger, writes } = capture('pretty', 'warn');
    logger.info('not shown');
    logger.debug('not shown');
    logger.warn('shown');
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain('WARN: shown');
  });
});
