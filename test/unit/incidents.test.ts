import { describe, expect, it } from 'vitest';
import { matchesKeywords } from '../../src/care/incident-links.js';
import { normalizeKeywords } from '../../src/care/incidents.js';
import { paceBatch } from '../../src/care/statements.js';
import type { CrisisAlertRow } from '../../src/db/schema.js';
import { incidentTitle } from '../../src/listeners/commands/care-incident.js';
import { alertMessage } from '../../src/slack/crisis.js';
import { goesWhere } from '../../src/slack/incident.js';

describe('incidents', () => {
  it('keywords match whole words and phrases, ignoring case', () => {
    const keywords = normalizeKeywords([' Checkout ', 'payment failed', 'checkout', 'x']);
    expect(keywords).toEqual(['checkout', 'payment failed']);
    expect(matchesKeywords('CHECKOUT is down!', keywords)).toBe(true);
    expect(matchesKeywords('my payment failed twice', keywords)).toBe(true);
    expect(matchesKeywords('checkouts are slow', keywords)).toBe(false);
    expect(matchesKeywords('the payment went through, nothing failed', keywords)).toBe(false);
    expect(matchesKeywords('a (regex) [checkout]', ['(regex)'])).toBe(true);
  });

  it('the title of /care incident open is quoted or the rest of the line', () => {
    expect(incidentTitle(' "Checkout outage" ')).toBe('Checkout outage');
    expect(incidentTitle('“Login fails”')).toBe('Login fails');
    expect(incidentTitle('App crashes on start')).toBe('App crashes on start');
    expect(incidentTitle('   ')).toBeUndefined();
  });

  it('a batch is paced per source: each source at most N a minute, sources side by side', () => {
    const end = new Date('2026-11-23T10:00:10Z');
    const times = paceBatch(
      [{ sourceKey: 'x:1' }, { sourceKey: 'x:1' }, { sourceKey: 'webhook:forum' }, { sourceKey: 'x:1' }],
      end,
      20,
    );
    expect(times.map((t) => (t.getTime() - end.getTime()) / 1000)).toEqual([0, 3, 0, 6]);
  });

  it('says how many go where, by the names agents know', () => {
    expect(
      goesWhere({
        send: [
          { platform: 'x', sourceKey: 'x:1' },
          { platform: 'webhook', sourceKey: 'webhook:forum' },
          { platform: 'x', sourceKey: 'x:2' },
        ],
      }),
    ).toBe('3 customers: 2 on X, 1 on forum');
    expect(goesWhere({ send: [] })).toBe('0 customers');
  });
});

describe('crisis alert message', () => {
  it('escapes customer text and terms, so they can mention no one', () => {
    const alert: CrisisAlertRow = {
      id: 7,
      kind: 'spike',
      scope: 'spike:x',
      platform: 'x',
      openedAt: new Date('2026-11-23T10:00:00Z'),
      lastAboveAt: new Date('2026-11-23T10:00:00Z'),
      clearedAt: null,
      count: 42,
      baseline: 6,
      peakCount: 42,
      terms: ['<!channel>', 'checkout'],
      sampleCaseIds: [3],
      incidentId: null,
    };
    const message = alertMessage(alert, {
      samples: [{ caseId: 3, platform: 'x', text: 'Hey <!here> <@U0BOSS> checkout & pay fail' }],
      mention: ['S0PRTEAM1', 'U0BOSS001'],
      window: (15 * 60_000) as never,
      crisisOn: true,
    });
    const json = JSON.stringify(message);
    expect(message.text).toContain('Spike on X: 42, usually 6 (7×) new cases in the last 15m');
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<!here>');
    expect(json).not.toContain('<@U0BOSS>');
    expect(json).toContain('&lt;!here&gt;');
    expect(json).toContain('<!subteam^S0PRTEAM1>');
    expect(json).toContain('<@U0BOSS001>');
    expect(json).toContain('crisis_mode_off');
  });
});
