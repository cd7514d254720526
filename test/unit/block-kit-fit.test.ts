import type { types } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageBlockProblems, viewProblems } from '../../emulators/slack/block-kit-check.js';
import type { CaseView } from '../../src/care/case-view.js';
import { milliseconds } from '../../src/care/clock.js';
import type { HomeCase } from '../../src/care/overview.js';
import type { CareStats } from '../../src/care/stats.js';
import { statsPeriod } from '../../src/care/stats-period.js';
import type { Team } from '../../src/care/teams.js';
import type { Config } from '../../src/config.js';
import {
  caseCard,
  customerChangeText,
  customerMessage,
  fallbackCaseCard,
  fallbackThreadMessage,
} from '../../src/slack/case-card.js';
import { alertMessage } from '../../src/slack/crisis.js';
import { escalationMessage } from '../../src/slack/escalation.js';
import { homeView } from '../../src/slack/home.js';
import { incidentMessage, statementModal, statementNote } from '../../src/slack/incident.js';
import { fitMessage, fitText, shortName } from '../../src/slack/limits.js';
import { escapeText } from '../../src/slack/mrkdwn.js';
import { failedMessage, sentMessage } from '../../src/slack/replies.js';
import { replyModal, savedRepliesModal } from '../../src/slack/saved-replies.js';
import { statsMessage } from '../../src/slack/stats.js';

describe('fitText', () => {
  it('never cuts inside an entity, a surrogate pair, an emoji sequence or a <…> token', () => {
    expect(fitText('&amp;&amp;&amp;', 12)).toBe('&amp;&amp;…');
    expect(fitText('ab𝕏𝕏𝕏', 5)).toBe('ab𝕏…');
    const family = '👩‍👩‍👧‍👦';
    expect(fitText(family.repeat(3), family.length * 2)).toBe(`${family}…`);
    expect(fitText(`see <https://example.com/${'a'.repeat(50)}|here> now`, 30)).toBe('see …');
    expect(fitText('short', 10)).toBe('short');
  });

  it('repairs lone surrogates', () => {
    expect(fitText('a\ud800b', 10)).toBe('a\ufffdb');
  });
});

describe('shortName', () => {
  it('keeps a name to one line of at most 80 graphemes', () => {
    expect(shortName('Jane\n  Doe')).toBe('Jane Doe');
    const long = shortName('<!everyone>'.repeat(1000));
    expect(Array.from(new Intl.Segmenter().segment(long))).toHaveLength(80);
    expect(long.endsWith('…')).toBe(true);
    expect(shortName('👩‍👩‍👧‍👦'.repeat(100)).length).toBeLessThanOrEqual(160);
  });
});

// ---------------------------------------------------------------------------------------------
// Every view carebot has, rendered from arbitrary customer text, names, handles and URLs, must be
// one that Slack accepts (checked by the fake Slack's own reading of the limits) and must not
// carry a mention or link the customer wrote.

const HOSTILE_PIECES = [
  '<!everyone>',
  '<!channel>',
  '<!here>',
  '<@U0EVIL01>',
  '<#C0EVIL01>',
  '<!subteam^S0EVIL01|@team>',
  '<https://evil.example|your bank>',
  '&&&',
  '&amp;',
  '👩‍👩‍👧‍👦',
  'e\u0301\u0302\u0303',
  '\ud800',
  '\udfff',
  '𝕏',
  '\n',
  '> ',
  '*_~`',
  '|',
];
const piece = fc.oneof(
  fc.constantFrom(...HOSTILE_PIECES),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
/** Customer text: short, or a hostile piece repeated up to 10,000 characters. */
const customer = fc.oneof(
  piece,
  fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')),
  fc
    .tuple(fc.constantFrom(...HOSTILE_PIECES, 'a'), fc.constantFrom(300, 3_000, 10_000))
    .map(([p, n]) => p.repeat(Math.ceil(n / p.length)).slice(0, n)),
);
const url = fc.oneof(
  fc.constant(null),
  fc.webUrl(),
  fc
    .tuple(fc.constantFrom('a', '<!everyone>', '|', '%3C', '&'), fc.integer({ min: 500, max: 3_500 }))
    .map(([p, n]) => `https://forum.example/u/${p.repeat(Math.ceil(n / p.length))}`),
  fc.constantFrom('javascript:alert(1)', 'not a url'),
);

const NOW = new Date('2026-11-23T10:00:00Z');
const TEAMS: Team[] = [{ key: 'pr', name: 'PR', usergroup: 'S0PR00001' } as Team];

interface Input {
  name: string;
  handle: string;
  text: string;
  url: string | null;
  authorUrl: string | null;
  title: string;
  source: string;
}

function caseView(i: Input): CaseView {
  return {
    case: {
      id: 42,
      platform: 'webhook',
      sourceKey: `webhook:${i.source}`,
      conversationId: 'c-1',
      priority: 'P1',
      priorityReasons: [i.text],
      status: 'open',
      ownerId: null,
      slaState: 'breached',
      lastCustomerMessageAt: NOW,
      lastReplyAt: NOW,
      firstResponseAt: null,
      firstResponseDueAt: NOW,
      nextResponseDueAt: NOW,
      resolutionDueAt: NOW,
      previousCaseId: 41,
      replyMode: 'public',
      cardVersion: 2,
      cardPostedVersion: 1,
    },
    firstMessage: {
      authorName: i.name,
      authorHandle: i.handle,
      authorId: i.handle,
      authorUrl: i.authorUrl,
      authorFollowers: 1_234_567,
      facts: [i.title, i.text, i.source, i.name, i.handle, i.text, i.title],
      text: i.text,
      url: i.url,
    },
    messageCount: 3,
    escalatedTo: ['pr', i.source],
    waiting: [{ teamKey: i.source, since: NOW }],
    incident: { linked: { id: 7, title: i.title }, anyOpen: true },
  } as unknown as CaseView;
}

function homeCase(i: Input, n: number): HomeCase {
  return {
    id: n,
    platform: 'webhook',
    sourceKey: `webhook:${i.source}`,
    priority: 'P2',
    ownerId: n % 2 ? 'U0AGENT001' : null,
    authorName: i.name,
    text: i.text,
    openedAt: NOW,
    dueAt: NOW,
    slaState: 'at_risk',
  };
}

function stats(i: Input): CareStats {
  const period = statsPeriod({ kind: '7d' }, NOW, 'UTC');
  const d = milliseconds;
  const response = {
    answered: 4,
    median: d(60_000),
    p90: d(120_000),
    within30m: { hits: 1, of: 4 },
    within1h: { hits: 2, of: 4 },
    withinSla: { hits: 3, of: 4 },
  };
  const grid = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 1));
  return {
    period,
    filter: {},
    generatedAt: NOW,
    newCases: { current: 5, previous: 3 },
    byPlatform: Array.from({ length: 12 }, (_, n) => ({
      key: `webhook:${i.source}${n}`,
      current: n,
      previous: 1,
    })),
    byPriority: [{ key: 'P1', current: 1, previous: 0 }],
    outsideHours: { cases: 1, firstResponseMedianOutside: d(1), firstResponseMedianInside: d(1) },
    backlog: {
      unclaimed: 1,
      owned: 1,
      waitingOnTeam: 1,
      overdue: 1,
      oldestWaiting: { caseId: 1, since: NOW },
    },
    firstResponse: { current: response, previous: response },
    nextResponse: { current: response, previous: response },
    resolution: {
      current: { resolved: 1, median: d(1), p90: d(1), withinSla: { hits: 1, of: 1 } },
      previous: { resolved: 1, median: d(1), p90: d(1), withinSla: { hits: 1, of: 1 } },
    },
    breaches: [],
    escalations: [
      { key: i.source, current: 1, previous: 0, answered: 1, ackMedian: d(1), answerMedian: d(1) },
    ],
    agents: [],
    arrivalsByHour: grid,
    repliesByHour: grid,
    daily: period.days.map((day) => ({ day, opened: 1, firstResponseWithinSla: { hits: 1, of: 1 } })),
  } as unknown as CareStats;
}

/** Every message and view carebot builds from one set of customer inputs. */
function render(i: Input): {
  messages: Array<[string, { text: string; blocks?: unknown[] }]>;
  views: Array<[string, types.ModalView | types.HomeView]>;
} {
  const view = caseView(i);
  const msg = {
    authorName: i.name,
    authorHandle: i.handle,
    authorId: i.handle,
    text: i.text,
    url: i.url,
    facts: [i.text, i.title, i.source],
  };
  const reply = {
    id: 9,
    caseId: 42,
    authorId: 'U0AGENT001',
    text: i.text,
    slackTs: 'modal:1',
    externalUrl: i.url,
    deliveryNote: i.text,
    lastError: i.text,
  } as never;
  const incident = {
    id: 7,
    title: i.title,
    status: 'open',
    leadId: 'U0LEAD0001',
    openedAt: NOW,
    resolvedAt: null,
    keywords: [i.title, i.source],
    savedReplyId: 1,
  } as never;
  const plan = {
    send: Array.from({ length: 5 }, (_, n) => ({
      platform: 'webhook',
      sourceKey: `webhook:${i.source}${n}`,
    })),
    held: Array.from({ length: 16 }, (_, n) => ({
      caseId: n,
      platform: 'x',
      sourceKey: 'x',
      findings: [{ message: i.text }],
    })),
    skipped: Array.from({ length: 3 }, (_, n) => ({ caseId: n, reason: i.text })),
  };
  const saved = Array.from(
    { length: 101 },
    (_, n) => ({ id: n, title: `${i.title}${n}`, text: i.text, uses: n }) as never,
  );
  const home = Array.from({ length: 12 }, (_, n) => homeCase(i, n));
  const teams = [...TEAMS, { key: i.source, name: i.title } as Team];
  return {
    messages: [
      ['case card', caseCard(view, teams)],
      ['fallback card', fallbackCaseCard(view, teams, i.text)],
      ['customer message', customerMessage(msg)],
      [
        'customer change',
        fitMessage({
          text: customerChangeText({ kind: 'edited', text: i.text }),
          blocks: [
            {
              type: 'section',
              text: { type: 'mrkdwn', text: customerChangeText({ kind: 'edited', text: i.text }) },
            },
          ],
        }),
      ],
      ['fallback thread message', fallbackThreadMessage(i.text)],
      [
        'escalation',
        escalationMessage({
          team: { key: i.source, name: i.title } as Team,
          escalation: {
            id: 3,
            caseId: 42,
            teamKey: i.source,
            note: i.text,
            urgency: 'urgent',
            requestedBy: 'U0AGENT001',
            createdAt: NOW,
            acknowledgedAt: null,
            answeredAt: null,
          } as never,
        }),
      ],
      ['sent reply', sentMessage(reply, i.source)],
      ['failed reply', failedMessage(reply, i.source)],
      [
        'stats',
        statsMessage(stats(i), {
          teams,
          businessHours: {
            days: ['mon'],
            start: '09:00',
            end: '18:00',
            holidays: [],
          } as unknown as Config['businessHours'],
          filterLabel: escapeText(shortName(i.source)),
          chart: 'on_request',
        }),
      ],
      [
        'incident',
        incidentMessage({
          incident,
          statement: { id: 1, title: i.title, text: i.text },
          linked: 3,
          openByPlatform: plan.send.map((s) => ({ ...s, n: 2 })),
        }),
      ],
      ['statement note', statementNote('U0LEAD0001', i.text, plan)],
      [
        'crisis alert',
        alertMessage(
          {
            id: 5,
            kind: 'cluster',
            platform: 'webhook',
            count: 30,
            baseline: 2,
            terms: [i.title, i.source],
            peakCount: 30,
          } as never,
          {
            samples: [1, 2, 3].map((n) => ({ caseId: n, platform: i.source, text: i.text })),
            mention: ['pr'],
            teams,
            window: milliseconds(600_000),
            crisisOn: false,
          },
        ),
      ],
    ],
    views: [
      ['App Home', homeView({ mine: home, unclaimed: home, escalated: home }, 'Help text')],
      ['reply modal', replyModal({ caseId: 42, savedReplyId: 3 }, saved, i.text, i.source)],
      ['saved replies', savedRepliesModal(saved)],
      ['statement modal', statementModal(incident, i.text, plan, 10_000)],
    ],
  };
}

/** What Slack would read as a mention, a channel or a link in mrkdwn: only carebot's own may appear. */
const OWN_TOKEN =
  /^<(?:@U0(?:AGENT001|LEAD0001)|!subteam\^S0PR00001|!date\^\d+\^[^|<>]*\|[^<>]*|https?:\/\/[^\s<>|]+\|[^<>|]*)>$/;

function mrkdwnTexts(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) mrkdwnTexts(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
    for (const v of Object.values(o)) mrkdwnTexts(v, out);
  }
  return out;
}

function foreignTokens(texts: string[]): string[] {
  return texts.flatMap((t) => (t.match(/<[^>]*>?/g) ?? []).filter((token) => !OWN_TOKEN.test(token)));
}

it('renders every view within Slack’s limits, with no mention or link from the customer', () => {
  const input = fc.record({
    name: customer,
    handle: customer,
    text: customer.filter((t) => t.length > 0),
    url,
    authorUrl: url,
    title: customer,
    source: fc.oneof(fc.constantFrom('forum', 'a.b_c-d'), customer),
  });
  fc.assert(
    fc.property(input, (i) => {
      const { messages, views } = render(i);
      for (const [name, m] of messages) {
        expect(m.text.length, `${name}: text`).toBeLessThanOrEqual(40_000);
        expect(messageBlockProblems(m.blocks ?? []), name).toEqual([]);
        expect(foreignTokens([m.text, ...mrkdwnTexts(m.blocks)]), name).toEqual([]);
      }
      for (const [name, v] of views) {
        expect(viewProblems({ ...v }), name).toEqual([]);
        expect(foreignTokens(mrkdwnTexts(v.blocks)), name).toEqual([]);
      }
    }),
    { numRuns: 25 },
  );
  // Hostile inputs of 10,000 characters in every field of 16 views: seconds alone, more on a busy CI.
}, 180_000);
