import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeBlueskyAccount } from '../../emulators/bluesky/api.js';
import { lengthRules } from '../../src/care/platforms.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { resetAt } from '../../src/sources/bluesky/client.js';
import { graphemeLength, replyRecordKey } from '../../src/sources/bluesky/limits.js';
import { normalizePost, plainText, readPost } from '../../src/sources/bluesky/normalize.js';

const account = fakeBlueskyAccount();
const JANE = 'did:plc:z72i7hdynmk6r22z27h6tvur';
const BRAND = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

/** A notification as `app.bsky.notification.listNotifications` lists it (lexicon `#notification`). */
function notification(over: Record<string, unknown> = {}, record: Record<string, unknown> = {}) {
  return {
    uri: `at://${JANE}/app.bsky.feed.post/3l6oveex3ii2l`,
    cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a',
    author: {
      did: JANE,
      handle: 'jane.bsky.social',
      displayName: 'Jane Doe',
      avatar: 'https://cdn.bsky.app/img/avatar/plain/did:plc:z72i7hdynmk6r22z27h6tvur/bafkrei@jpeg',
      associated: { chat: { allowIncoming: 'following' } },
      viewer: { muted: false, blockedBy: false },
      labels: [],
      createdAt: '2023-04-12T04:53:57.057Z',
      indexedAt: '2024-01-25T23:46:33.137Z',
    },
    reason: 'mention',
    record: {
      $type: 'app.bsky.feed.post',
      createdAt: '2026-11-23T09:59:58.123Z',
      langs: ['en'],
      text: '@acme.bsky.social my order never arrived',
      facets: [
        {
          $type: 'app.bsky.richtext.facet',
          index: { byteStart: 0, byteEnd: 17 },
          features: [{ $type: 'app.bsky.richtext.facet#mention', did: BRAND }],
        },
      ],
      ...record,
    },
    isRead: false,
    indexedAt: '2026-11-23T10:00:00.000Z',
    labels: [],
    ...over,
  };
}

describe('Bluesky normalize', () => {
  it('makes a mention its own conversation, with the author and links a person opens', () => {
    const post = readPost(notification());
    if (!post) throw new Error('expected a post');
    expect(normalizePost(account, post, 12_345)).toEqual({
      sourceKey: 'bluesky:acme.bsky.social',
      platform: 'bluesky',
      externalId: `at://${JANE}/app.bsky.feed.post/3l6oveex3ii2l`,
      conversationId: `at://${JANE}/app.bsky.feed.post/3l6oveex3ii2l`,
      author: {
        id: JANE,
        name: 'Jane Doe',
        handle: 'jane.bsky.social',
        url: 'https://bsky.app/profile/jane.bsky.social',
        followers: 12_345,
      },
      text: '@acme.bsky.social my order never arrived',
      url: 'https://bsky.app/profile/jane.bsky.social/post/3l6oveex3ii2l',
      sentAt: new Date('2026-11-23T09:59:58.123Z'),
      channelId: 'C0BSKY0001',
    });
  });

  it("puts a reply in its thread root's conversation, and says a quote quotes the brand", () => {
    const root = `at://${BRAND}/app.bsky.feed.post/3l6ouzzzz2222`;
    const reply = readPost(
      notification(
        { reason: 'reply', reasonSubject: `at://${BRAND}/app.bsky.feed.post/3l6ov22222222` },
        {
          reply: {
            root: { uri: root, cid: 'bafyreia' },
            parent: { uri: `at://${BRAND}/app.bsky.feed.post/3l6ov22222222`, cid: 'bafyreib' },
          },
        },
      ),
    );
    expect(reply && normalizePost(account, reply, undefined).conversationId).toBe(root);
    const quote = readPost(
      notification(
        { reason: 'quote', reasonSubject: root },
        { embed: { $type: 'app.bsky.embed.record', record: { uri: root, cid: 'bafyreia' } } },
      ),
    );
    expect(quote && normalizePost(account, quote, undefined).facts).toEqual(['quotes your post']);
  });

  it('names an author without a display name by handle, and holds a future createdAt to indexedAt', () => {
    const post = readPost(
      notification(
        { author: { did: JANE, handle: 'jane.bsky.social' } },
        { createdAt: '2099-01-01T00:00:00Z' },
      ),
    );
    const message = post && normalizePost(account, post, undefined);
    expect(message?.author.name).toBe('jane.bsky.social');
    expect(message?.sentAt).toEqual(new Date('2026-11-23T10:00:00.000Z'));
  });

  it('skips what is not a post', () => {
    expect(readPost(notification({}, { text: undefined }))).toBeUndefined();
    expect(readPost(notification({ record: { $type: 'app.bsky.feed.like' } }))).toBeUndefined();
  });

  it('gives shortened links whole and shows where a link under other words goes (facets count UTF-8 bytes)', () => {
    const text = '😡 see acme.com/orders/12... or click here';
    const start = Buffer.byteLength('😡 see ');
    const short = 'acme.com/orders/12...';
    const here = Buffer.byteLength('😡 see acme.com/orders/12... or click ');
    expect(
      plainText({
        text,
        createdAt: '2026-11-23T10:00:00Z',
        facets: [
          {
            index: { byteStart: start, byteEnd: start + Buffer.byteLength(short) },
            features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://acme.com/orders/123456' }],
          },
          {
            index: { byteStart: here, byteEnd: here + 4 },
            features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://evil.example/x' }],
          },
        ],
      }),
    ).toBe('😡 see https://acme.com/orders/123456 or click here (https://evil.example/x)');
  });
});

describe('Bluesky limits', () => {
  it('counts graphemes, as Bluesky does, in the tone check', () => {
    expect(graphemeLength('👨‍👩‍👧')).toBe(1);
    expect(graphemeLength('e\u0301')).toBe(1);
    expect(graphemeLength('hello')).toBe(5);
    const rule = lengthRules().get('bluesky');
    expect(rule).toMatchObject({ limit: 300, countedBy: 'Bluesky' });
    expect(rule?.count?.('👍🏽'.repeat(300))).toBe(300);
  });

  it('keys a reply by a TID that is the same at every attempt and sorts after the post it answers', () => {
    const parent = '3l6oveex3ii2l';
    const key = replyRecordKey(BRAND, 'carebot-reply-7', parent);
    expect(key).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
    expect(replyRecordKey(BRAND, 'carebot-reply-7', parent)).toBe(key);
    expect(replyRecordKey(BRAND, 'carebot-reply-8', parent)).not.toBe(key);
    expect(replyRecordKey(BRAND, 'carebot-reply-7-1', parent)).not.toBe(key);
    expect(key > parent).toBe(true);
    expect(replyRecordKey(BRAND, 'k', 'not-a-tid')).toMatch(/^[234567abcdefghij][2-7a-z]{12}$/);
  });

  it('reads ratelimit-reset as epoch seconds', () => {
    const now = new Date('2026-11-23T10:00:00Z');
    expect(resetAt({ 'ratelimit-reset': String(now.getTime() / 1000 + 90) }, now)).toEqual(
      new Date('2026-11-23T10:01:30Z'),
    );
    expect(resetAt({}, now)).toEqual(new Date('2026-11-23T10:01:00Z'));
  });
});

describe('Bluesky config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carebot-bluesky-'));
  const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh', CARE_CHANNEL_ID: 'C0123ABCD' };
  const config = (yaml: string, env: Record<string, string> = {}) => {
    const path = join(dir, `${Math.random()}.yaml`);
    writeFileSync(path, yaml);
    return loadConfig({ ...base, CARE_CONFIG: path, ...env }).sources.bluesky;
  };

  it('takes the default account from BLUESKY_*, and more from the file with their own keywords', () => {
    const settings = config(
      [
        'sources:',
        '  bluesky:',
        '    poll_every: 2m',
        '    keywords: [acme]',
        '    channel: C0BSKY0001',
        '    accounts:',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${VAR}, read from the environment
        '      - { name: help, identifier: "@help.acme.com", app_password: "${HELP_PW}", keywords: [], channel: C0HELP0001 }',
      ].join('\n'),
      {
        BLUESKY_IDENTIFIER: 'acme.bsky.social',
        BLUESKY_APP_PASSWORD: 'aaaa-bbbb-cccc-dddd',
        HELP_PW: 'eeee-ffff',
      },
    );
    expect(settings).toMatchObject({
      serviceUrl: 'https://bsky.social',
      pollEvery: 120_000,
      backfill: undefined,
    });
    expect(settings.accounts).toEqual([
      {
        name: 'default',
        identifier: 'acme.bsky.social',
        appPassword: 'aaaa-bbbb-cccc-dddd',
        keywords: ['acme'],
        channel: 'C0BSKY0001',
      },
      {
        name: 'help',
        identifier: 'help.acme.com',
        appPassword: 'eeee-ffff',
        keywords: [],
        channel: 'C0HELP0001',
      },
    ]);
  });

  it('is off without credentials, and names the missing half of a half-set account', () => {
    expect(config('').accounts).toEqual([]);
    expect(config('').pollEvery).toBe(60_000);
    try {
      config('', { BLUESKY_IDENTIFIER: 'acme.bsky.social' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.problems.join('\n')).toContain('BLUESKY_APP_PASSWORD: missing');
    }
  });
});
