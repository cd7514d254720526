import { describe, expect, it } from 'vitest';
import { complaint, postWebhook, sync, type TestCarebot, useCarebot } from '../support/carebot.js';
import { blockKitViolations, FORBIDDEN_TOKENS } from './support/block-kit-limits.js';
import { writeConfig } from './support/env.js';
import { figure, reliability } from './support/gate.js';

const INJECTION =
  'Hey <!channel> <!here> <!everyone> <@U0EVIL01> <#C0EVIL01> <!subteam^S0EVIL01|@team> ' +
  '<https://evil.example|your bank> <mailto:x@evil.example|mail> *bold* _it_ ~s~ `code` ```block``` > & &amp; &lt;';

/** Customer texts built to break out of mrkdwn or past Block Kit's limits. */
const HOSTILE: Record<string, string> = {
  injection: INJECTION,
  'injection ×40 (long)': INJECTION.repeat(40),
  '10,000 letters': 'a'.repeat(10_000),
  "10,000 '<'": '<'.repeat(10_000),
  "10,000 '&'": '&'.repeat(10_000),
  '3,000 lines': 'line\n'.repeat(3000),
  'emoji ZWJ sequences': '👩‍👩‍👧‍👦'.repeat(2000),
  'RTL and zero-width marks': '\u202Eevil\u202C \u200F\u200E\u200B\u2066x\u2069 '.repeat(500),
  'combining marks': 'e\u0301\u0302\u0303'.repeat(2500),
  'astral near the cut': `${'x'.repeat(2498)}𝕏𝕏𝕏 ${'x'.repeat(300)}`,
  'lone surrogate': 'broken \ud800 pair \udfff',
};

const ESCALATING = writeConfig(`
teams:
  - { key: pr, name: PR, usergroup: S0PR00001 }
escalation:
  rules:
    - { when: keywords, keywords: [lawyer], team: pr }
`);

reliability('a busy case card', () => {
  const carebot = useCarebot({ CARE_CONFIG: ESCALATING });

  // Was a finding: one context element per fact made 12 here, past Block Kit's 10, and Slack refused
  // the card update (invalid_blocks). Fixed in e888457 (the facts share three elements).
  it('keeps the card context within 10 elements', async () => {
    const t = carebot();
    const author = { id: 'u1', name: 'Jane', url: 'https://forum.example/u/jane', followers: 250_000 };
    await postWebhook(t, complaint({ conversationId: 'busy', author, url: 'https://forum.example/t/1' }));
    await sync(t);
    await postWebhook(t, complaint({ conversationId: 'busy', text: 'I will call my lawyer' }));
    await sync(t);
    const calls = t.slack.calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
    const violations = calls.flatMap((c) => blockKitViolations(c.params));
    figure('busy-card', { violations: [...new Set(violations)] });
    expect(violations).toEqual([]);
  });
});

reliability('customer text built to break mrkdwn or Block Kit', () => {
  const carebot = useCarebot();
  const findings: Record<string, string[]> = {};

  async function postedFor(t: TestCarebot, body: Record<string, unknown>) {
    const res = await postWebhook(t, body);
    expect(res.status).toBe(202);
    await sync(t);
    return t.slack.calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
  }

  function check(name: string, calls: Awaited<ReturnType<typeof postedFor>>) {
    expect(calls.length).toBeGreaterThan(0);
    const violations = calls.flatMap((c) => blockKitViolations(c.params));
    if (violations.length) findings[name] = [...new Set(violations)];
    for (const call of calls) {
      expect(call.ok, `${name}: Slack refused ${call.method}`).toBe(true);
      const everything = `${call.params.text} ${JSON.stringify(call.params.blocks)}`;
      for (const token of FORBIDDEN_TOKENS) expect(everything, `${name}: ${token}`).not.toContain(token);
    }
    return violations;
  }

  describe('as the text of a new case (the card)', () => {
    for (const [name, text] of Object.entries(HOSTILE)) {
      const known = KNOWN_CARD_OVERFLOWS.has(name);
      (known ? it.fails : it)(`${name}: escaped, and within Slack's limits`, async () => {
        const t = carebot();
        const calls = await postedFor(t, complaint({ text }));
        expect(check(`card: ${name}`, calls)).toEqual([]);
      });
    }
  });

  describe('as a follow-up in the thread', () => {
    for (const [name, text] of Object.entries(HOSTILE)) {
      const known = KNOWN_CARD_OVERFLOWS.has(name);
      (known ? it.fails : it)(`${name}: escaped, and within Slack's limits`, async () => {
        const t = carebot();
        await postedFor(t, complaint({ conversationId: 'c-1' }));
        t.slack.reset();
        const calls = await postedFor(t, complaint({ conversationId: 'c-1', text }));
        expect(check(`follow-up: ${name}`, calls)).toEqual([]);
      });
    }
  });

  it('escapes a hostile author name and handle, and keeps a long profile URL within limits', async () => {
    const t = carebot();
    const calls = await postedFor(
      t,
      complaint({
        author: {
          id: '<@U0EVIL01>',
          name: `<!channel> ${'N'.repeat(500)}`,
          handle: '<!here>',
          url: `https://forum.example/u/${'p'.repeat(200)}|<!channel>`,
        },
        url: 'https://forum.example/t/1?x=<!everyone>',
      }),
    );
    expect(check('author', calls)).toEqual([]);
  });

  it('records the figures', () => {
    figure('hostile-text', { inputs: Object.keys(HOSTILE).length * 2 + 2, overLimits: findings });
  });
});

/**
 * Texts that went past Slack's limits before e888457 (the quote was cut before escaping): none now.
 * A text listed here runs as `it.fails`, for a limit that is known to be broken.
 */
const KNOWN_CARD_OVERFLOWS = new Set<string>([]);
