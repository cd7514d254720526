import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hours, minutes } from '../../src/care/clock.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-crisis-config-'));
const env = (yaml: string) => {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, yaml);
  return {
    SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
    SLACK_SIGNING_SECRET: 'shh',
    CARE_CHANNEL_ID: 'C0123ABCD',
    CARE_CONFIG: path,
  };
};

describe('config: crisis', () => {
  it('has documented defaults, with alerts in the care channel', () => {
    expect(loadConfig(env('')).crisis).toEqual({
      watch: true,
      channelId: 'C0123ABCD',
      mention: [],
      checkEvery: minutes(1),
      window: minutes(15),
      factor: 3,
      minCount: 20,
      baselineWeeks: 4,
      calmAfter: minutes(30),
      cluster: { minCases: 8, minTerms: 1, lift: 5 },
      modeOnAlert: true,
      sla: { firstResponse: minutes(15), nextResponse: minutes(30), resolution: null },
      statementPerMinute: 20,
      linkLookback: hours(24),
    });
  });

  it('reads every key', () => {
    const c = loadConfig(
      env(
        [
          'crisis:',
          '  channel: C0CRISIS1',
          '  mention: [S0PR0001, U0BOSS001]',
          '  window: 30m',
          '  factor: 4',
          '  min_count: 10',
          '  baseline_weeks: 6',
          '  cluster: { min_cases: 5, min_terms: 2, lift: 8 }',
          '  sla: { first_response: 10m, next_response: null, resolution: 4h }',
          '  statement_per_minute: 60',
        ].join('\n'),
      ),
    ).crisis;
    expect(c).toMatchObject({
      channelId: 'C0CRISIS1',
      mention: ['S0PR0001', 'U0BOSS001'],
      window: minutes(30),
      factor: 4,
      minCount: 10,
      baselineWeeks: 6,
      cluster: { minCases: 5, minTerms: 2, lift: 8 },
      sla: { firstResponse: minutes(10), nextResponse: null, resolution: hours(4) },
      statementPerMinute: 60,
    });
  });

  it('names bad values', () => {
    try {
      loadConfig(
        env(
          'crisis: { factor: 1, window: 2d, mention: [Pr Team], sla: { first_response: fast }, clustr: {} }',
        ),
      );
      throw new Error('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const text = err.problems.join('\n');
      expect(text).toContain('crisis.factor: expected a factor above 1');
      expect(text).toContain('crisis.mention.0: expected a team key (such as pr), a Slack user group id');
      expect(text).toContain('crisis.sla.first_response: expected a duration');
      expect(text).toContain('clustr');
    }
    try {
      loadConfig(env('crisis: { mention: [pr] }'));
      throw new Error('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.problems.join('\n')).toContain(
        'crisis.mention.0: no team has the key pr; add it under teams',
      );
    }
    expect(
      loadConfig(
        env('teams: [{ key: pr, name: PR, usergroup: S0PR0001 }]\ncrisis: { mention: [pr, U0BOSS001] }'),
      ).crisis.mention,
    ).toEqual(['pr', 'U0BOSS001']);
    try {
      loadConfig(env('crisis: { window: 2d }'));
      throw new Error('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.problems.join('\n')).toContain('crisis.window: expected a window of at most 1d');
    }
  });
});
