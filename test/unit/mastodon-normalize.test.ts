import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeMastodonAccount } from '../../emulators/mastodon/api.js';
import { minutes } from '../../src/care/clock.js';
import { lengthRules } from '../../src/care/platforms.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { resetAt } from '../../src/sources/mastodon/client.js';
import {
  forgetMaxCharacters,
  learnMaxCharacters,
  mastodonLength,
  smallestMaxCharacters,
} from '../../src/sources/mastodon/limits.js';
import {
  conversationOf,
  mastodonNotification,
  mastodonStatus,
  normalizeStatus,
  statusText,
} from '../../src/sources/mastodon/normalize.js';
import { compareIds, parseLinks } from '../../src/sources/mastodon/poller.js';
import { withMention } from '../../src/sources/mastodon/reply.js';

const account = fakeMastodonAccount({ url: 'https://mastodon.social' });

/** A mention notification as Mastodon's documentation shows it (GET /api/v1/notifications), filled in. */
const notification = {
  id: '34975861',
  type: 'mention',
  created_at: '2019-11-23T07:49:02.064Z',
  account: { id: '971724', username: 'zsc', acct: 'zsc', display_name: 'ZSC', followers_count: 12 },
  status: {
    id: '103186126728896492',
    created_at: '2019-11-23T07:49:01.940Z',
    in_reply_to_id: '103186038209478945',
    in_reply_to_account_id: '14715',
    sensitive: false,
    spoiler_text: '',
    visibility: 'public',
    language: 'en',
    uri: 'https://mastodon.social/users/zsc/statuses/103186126728896492',
    url: 'https://mastodon.social/@zsc/103186126728896492',
    replies_count: 0,
    reblogs_count: 0,
    favourites_count: 0,
    content:
      '<p><span class="h-card"><a href="https://mastodon.social/@trwnh" class="u-url mention">@<span>trwnh</span></a></span> sup!</p>',
    reblog: null,
    account: {
      id: '971724',
      username: 'zsc',
      acct: 'zsc',
      display_name: 'ZSC',
      url: 'https://mastodon.social/@zsc',
      followers_count: 12,
    },
    media_attachments: [],
    mentions: [{ id: '14715', username: 'trwnh', url: 'https://mastodon.social/@trwnh', acct: 'trwnh' }],
    tags: [],
    emojis: [],
    card: null,
    poll: null,
  },
};

const status = (over: Record<string, unknown> = {}) =>
  mastodonStatus.parse({ ...notification.status, ...over });

describe('Mastodon normalize', () => {
  it("turns the documentation's mention into an inbound message", () => {
    const n = mastodonNotification.parse(notification);
    const s = mastodonStatus.parse(n.status);
    expect(normalizeStatus(account, s, conversationOf(s, undefined))).toEqual({
      sourceKey: 'mastodon:brand',
      platform: 'mastodon',
      externalId: '103186126728896492',
      conversationId: '103186038209478945',
      author: {
        id: '971724',
        name: 'ZSC',
        handle: 'zsc',
        url: 'https://mastodon.social/@zsc',
        followers: 12,
      },
      text: '@trwnh sup!',
      url: 'https://mastodon.social/@zsc/103186126728896492',
      sentAt: new Date('2019-11-23T07:49:01.940Z'),
      channelId: 'C0MSTCARE1',
    });
  });

  it('names threads by in_reply_to_id, joins a known conversation, and marks direct ones', () => {
    expect(conversationOf(status({ in_reply_to_id: null }), undefined)).toBe('103186126728896492');
    expect(conversationOf(status(), 'earlier-case')).toBe('earlier-case');
    expect(conversationOf(status({ visibility: 'direct', in_reply_to_id: null }), undefined)).toBe(
      'dm:103186126728896492',
    );
    expect(conversationOf(status({ visibility: 'direct' }), undefined)).toBe('dm:103186038209478945');
  });

  it('writes HTML as plain text: paragraphs, line breaks, entities, remote mentions with their domain', () => {
    const s = status({
      content:
        '<p><span class="h-card" translate="no"><a href="https://mastodon.social/@acme" class="u-url mention">@<span>acme</span></a></span> <span class="h-card"><a href="https://fosstodon.org/@jo" class="u-url mention">@<span>jo</span></a></span> my order &amp; refund &lt;3</p><p>line one<br />line two <a href="https://mastodon.social/tags/help" class="mention hashtag" rel="tag">#<span>help</span></a> <a href="https://example.com/a/very/long/path" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span><span class="invisible">ng/path</span></a></p>',
      mentions: [
        { id: '1', username: 'acme', url: 'https://mastodon.social/@acme', acct: 'acme' },
        { id: '2', username: 'jo', url: 'https://fosstodon.org/@jo', acct: 'jo@fosstodon.org' },
      ],
    });
    expect(statusText(s)).toBe(
      '@acme @jo@fosstodon.org my order & refund <3\n\nline one\nline two #help https://example.com/a/very/long/path',
    );
    // An unclosed anchor from a stranger does not hang or drop text.
    expect(
      statusText({
        content: `<p>${'<a href="https://mastodon.social/@acme">'.repeat(2000)}x`,
        mentions: s.mentions,
      }),
    ).toContain('x');
  });

  it('shows a content warning, followers-only and edits as facts; a remote author by acct', () => {
    const s = status({
      spoiler_text: 'billing rant',
      visibility: 'private',
      edited_at: '2019-11-23T08:00:00.000Z',
      account: { id: '5', username: 'jo', acct: 'jo@fosstodon.org', display_name: '', url: null },
    });
    const message = normalizeStatus(account, s, '1');
    expect(message.facts).toEqual(['CW: billing rant', 'followers-only post', 'edited']);
    const picture = normalizeStatus(
      account,
      status({ content: '', media_attachments: [{ type: 'image' }, { type: 'image' }] }),
      '1',
    );
    expect(picture.text).toBe('(no text, only attachments)');
    expect(picture.facts).toEqual(['2 attachments']);
    expect(message.author).toEqual({
      id: '5',
      name: 'jo',
      handle: 'jo@fosstodon.org',
      url: 'https://fosstodon.org/@jo',
      followers: undefined,
    });
  });

  it('counts as Mastodon does: URLs 23, remote mentions by their user part, code points', () => {
    expect(mastodonLength('hello')).toBe(5);
    expect(mastodonLength(`see https://example.com/${'x'.repeat(100)}.`)).toBe(4 + 23 + 1);
    expect(mastodonLength('@jo@fosstodon.org hi')).toBe('@jo hi'.length);
    expect(mastodonLength('mail me: me@example.com')).toBe('mail me: me@example.com'.length);
    expect(mastodonLength('😀😀')).toBe(2);
  });

  it('reads the limit at each tone check: the smallest learned, 500 before', () => {
    forgetMaxCharacters();
    const rule = lengthRules().get('mastodon');
    expect(rule?.limit).toBe(500);
    learnMaxCharacters('a', 5000);
    learnMaxCharacters('b', 1000);
    expect(smallestMaxCharacters()).toBe(1000);
    expect(rule?.limit).toBe(1000);
    expect(rule?.countedBy).toBe('Mastodon');
    expect(rule?.count?.('@jo@fosstodon.org hi')).toBe(6);
    forgetMaxCharacters();
  });

  it("starts a reply with the customer's @acct unless it already does", () => {
    expect(withMention('Sorry!', 'jo@fosstodon.org')).toBe('@jo@fosstodon.org Sorry!');
    expect(withMention('@Jo@fosstodon.org sorry', 'jo@fosstodon.org')).toBe('@Jo@fosstodon.org sorry');
    expect(withMention('@jonathan hi', 'jo')).toBe('@jo @jonathan hi');
  });

  it('reads the Link header, ids past 2^53, and X-RateLimit-Reset as an ISO time', () => {
    expect(
      parseLinks(
        '<https://mastodon.example/api/v1/notifications?max_id=34975535>; rel="next", <https://mastodon.example/api/v1/notifications?min_id=34975861>; rel="prev"',
      ),
    ).toEqual({ next: { max_id: '34975535' }, prev: { min_id: '34975861' } });
    expect(compareIds('9007199254740993', '9007199254740992')).toBe(1);
    const now = new Date('2026-11-23T10:00:00Z');
    const headers = new Headers({ 'x-ratelimit-reset': '2026-11-23T10:05:00.000Z' });
    expect(resetAt(headers, now)).toEqual(new Date('2026-11-23T10:05:00Z'));
    expect(resetAt(new Headers(), now)).toEqual(new Date(now.getTime() + minutes(5)));
  });
});

describe('Mastodon config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carebot-mastodon-'));
  const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh', CARE_CHANNEL_ID: 'C0123ABCD' };
  const withFile = (yaml: string) => {
    const path = join(dir, `${Math.random()}.yaml`);
    writeFileSync(path, yaml);
    return path;
  };

  it('takes the default account from MASTODON_* and more from the file', () => {
    const c = loadConfig({
      ...base,
      MASTODON_URL: 'https://mastodon.social/',
      MASTODON_ACCESS_TOKEN: 'tok',
      CARE_CONFIG: withFile(
        [
          'sources:',
          '  mastodon:',
          '    channel: C0MASTO001',
          '    backfill: 2h',
          '    accounts:',
          '      - { name: help, url: "https://fosstodon.org", access_token: tok2, channel: C0HELP0001 }',
        ].join('\n'),
      ),
    });
    expect(c.sources.mastodon).toEqual({
      pollEvery: minutes(1),
      backfill: minutes(120),
      accounts: [
        { name: 'default', url: 'https://mastodon.social', accessToken: 'tok', channel: 'C0MASTO001' },
        { name: 'help', url: 'https://fosstodon.org', accessToken: 'tok2', channel: 'C0HELP0001' },
      ],
    });
  });

  it('is off without variables, and names what is missing when half set', () => {
    expect(loadConfig({ ...base, CARE_CONFIG: withFile('') }).sources.mastodon.accounts).toEqual([]);
    let problems: string[] = [];
    try {
      loadConfig({ ...base, CARE_CONFIG: withFile(''), MASTODON_URL: 'https://mastodon.social' });
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems.join('\n')).toContain('MASTODON_ACCESS_TOKEN: missing');
  });
});
