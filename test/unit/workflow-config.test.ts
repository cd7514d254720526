import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hours, minutes } from '../../src/care/clock.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'carebot-workflow-config-'));
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

const problems = (yaml: string): string => {
  try {
    loadConfig(env(yaml));
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('config: workflow', () => {
  it('is all off by default, with the documented values', () => {
    const c = loadConfig(env(''));
    expect(c.assignment).toEqual({
      mode: 'off',
      after: minutes(5),
      maxOpenPerAgent: 8,
      shiftUsergroup: null,
      awayStatusEmoji: [':palm_tree:', ':face_with_thermometer:', ':no_entry:'],
    });
    expect(c.csat).toEqual({ enabled: false, text: 'How did we do? Reply 1 (bad) to 5 (great).' });
    expect(c.autoResolve).toEqual({ after: null, nudgeAfter: null });
    expect(c.approval).toEqual({ traineesUsergroup: null, approversUsergroup: null });
  });

  it('reads every key', () => {
    const c = loadConfig(
      env(
        [
          'assignment: { mode: round_robin, after: 2m, max_open_per_agent: 3, shift_usergroup: S0ONCALL1, away_status_emoji: [":beach:"] }',
          'csat: { enabled: true, text: "  Rate us 1-5  " }',
          'auto_resolve: { after: 3d, nudge_after: 2d }',
          'approval: { trainees_usergroup: S0TRAIN01, approvers_usergroup: S0LEADS01 }',
        ].join('\n'),
      ),
    );
    expect(c.assignment).toEqual({
      mode: 'round_robin',
      after: minutes(2),
      maxOpenPerAgent: 3,
      shiftUsergroup: 'S0ONCALL1',
      awayStatusEmoji: [':beach:'],
    });
    expect(c.csat).toEqual({ enabled: true, text: 'Rate us 1-5' });
    expect(c.autoResolve).toEqual({ after: hours(72), nudgeAfter: hours(48) });
    expect(c.approval).toEqual({ traineesUsergroup: 'S0TRAIN01', approversUsergroup: 'S0LEADS01' });
  });

  it('names each wrong key', () => {
    const text = problems(
      [
        'assignment: { mode: sometimes, max_open_per_agent: 0, away_status_emoji: [palm_tree] }',
        `csat: { text: "${'x'.repeat(300)}" }`,
      ].join('\n'),
    );
    expect(text).toContain('assignment.mode');
    expect(text).toContain('off or round_robin');
    expect(text).toContain('assignment.max_open_per_agent');
    expect(text).toContain('assignment.away_status_emoji.0');
    expect(text).toContain('csat.text');
  });

  it('refuses settings that only make sense together', () => {
    expect(problems('auto_resolve: { nudge_after: 2d }')).toContain('set auto_resolve.after too');
    expect(problems('auto_resolve: { after: 1d, nudge_after: 2d }')).toContain(
      'shorter than auto_resolve.after',
    );
    expect(problems('approval: { trainees_usergroup: S0TRAIN01 }')).toContain('approval.approvers_usergroup');
    expect(problems('approval: { trainees_usergroup: S0TRAIN01, approvers_usergroup: S0TRAIN01 }')).toContain(
      "must not be the trainees' group",
    );
  });
});
