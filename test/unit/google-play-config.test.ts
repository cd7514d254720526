import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minutes } from '../../src/care/clock.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-play-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const base = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_SIGNING_SECRET: 'shh',
  CARE_CHANNEL_ID: 'C0123ABCD',
  CARE_CONFIG: file('empty.yaml', ''),
};

describe('sources.google_play', () => {
  it('is off by default, with a five-minute poll and one- and two-star reviews at P2', () => {
    const play = loadConfig(base).sources.google_play;
    expect(play).toMatchObject({
      apiUrl: 'https://androidpublisher.googleapis.com',
      pollEvery: minutes(5),
      accounts: [],
    });
  });

  it('takes the default app from the environment and more apps from the file', () => {
    const config = file(
      'play.yaml',
      [
        'sources:',
        '  google_play:',
        '    channel: C0PLAY0001',
        '    poll_every: 10m',
        '    backfill: 2d',
        '    priority_by_rating: { 1: P1, 2: P2, 3: P3 }',
        '    accounts:',
        '      - { name: beta, package_name: com.acme.beta, credentials_file: /keys/beta.json, channel: C0BETA0001, priority_by_rating: { 1: P2 } }',
      ].join('\n'),
    );
    const play = loadConfig({
      ...base,
      CARE_CONFIG: config,
      GOOGLE_PLAY_PACKAGE_NAME: 'com.acme.shop',
      GOOGLE_APPLICATION_CREDENTIALS: '/keys/shop.json',
      GOOGLE_PLAY_API_URL: 'http://127.0.0.1:9999/',
    }).sources.google_play;
    expect(play.apiUrl).toBe('http://127.0.0.1:9999');
    expect(play.pollEvery).toBe(minutes(10));
    expect(play.accounts).toEqual([
      {
        name: 'default',
        packageName: 'com.acme.shop',
        credentialsFile: '/keys/shop.json',
        channel: 'C0PLAY0001',
        priorityByRating: { 1: 'P1', 2: 'P2', 3: 'P3' },
      },
      {
        name: 'beta',
        packageName: 'com.acme.beta',
        credentialsFile: '/keys/beta.json',
        channel: 'C0BETA0001',
        priorityByRating: { 1: 'P2' },
      },
    ]);
  });

  it('says what is missing or wrong', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.join('\n');
        throw err;
      }
      return '';
    };
    expect(problems({ GOOGLE_PLAY_PACKAGE_NAME: 'com.acme.shop' })).toContain(
      'GOOGLE_APPLICATION_CREDENTIALS',
    );
    expect(problems({ GOOGLE_PLAY_PACKAGE_NAME: 'not a package' })).toContain('package name');
    // GOOGLE_APPLICATION_CREDENTIALS alone belongs to other Google tools: Play stays off, quietly.
    expect(problems({ GOOGLE_APPLICATION_CREDENTIALS: '/keys/other.json' })).toBe('');
    const bad = file('bad.yaml', 'sources:\n  google_play:\n    priority_by_rating: { 6: P1 }\n');
    expect(problems({ CARE_CONFIG: bad })).toContain('priority_by_rating');
  });
});
