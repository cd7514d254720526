import { Writable } from 'node:stream';
import { asc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  credentialsOf,
  type FakeReddit,
  fakeRedditAccount,
  startFakeReddit,
} from '../../emulators/reddit/api.js';
import { recordInbound } from '../../src/care/case-inbound.js';
import { hours, minutes, seconds } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { cases, messages } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import {
  type RedditPollerOptions,
  redditInboxPoller,
  redditPollers,
  redditSubredditPoller,
} from '../../src/sources/reddit/poller.js';
import type { PollContext, Poller, PollOutcome } from '../../src/sources/types.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

const account = fakeRedditAccount();
const SUB_NEW = '/r/acme/new';
const SUB_COMMENTS = '/r/acme/comments';

describe('Reddit pollers', () => {
  let handle: DatabaseHandle;
  let reddit: FakeReddit;
  let clock: ManualClock;
  let logs: string[];

  beforeAll(async () => {
    handle = await createTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    clock = new ManualClock('2026-11-23T10:00:00Z');
    reddit = await startFakeReddit({ credentials: [credentialsOf(account)], now: () => clock.now() });
    logs = [];
  });
  afterEach(async () => {
    await reddit.close();
  });

  const options = (over: Partial<RedditPollerOptions> = {}): RedditPollerOptions => ({
    apiUrl: reddit.url,
    authUrl: reddit.url,
    everyMs: minutes(2),
    ...over,
  });
  const context = (cursor: string | undefined): PollContext => ({
    cursor,
    clock,
    logger: createLogger(
      'debug',
      new Writable({
        write(chunk, _enc, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    ),
    record: (message) => recordInbound(handle.db, clock, message),
  });
  const ok = (outcome: PollOutcome) => {
    if (outcome.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
    return outcome;
  };
  const stored = () => handle.db.select().from(messages).orderBy(asc(messages.id));
  const subreddit = (acc = account, opts = options()) => redditSubredditPoller(acc, 'acme', opts);
  /** A poller that has made its first poll, so it reads everything after `cursor`. */
  const started = async (poller: Poller = subreddit()) => {
    const first = ok(await poller.poll(context(undefined)));
    clock.advance(seconds(30));
    return { poller, cursor: first.cursor };
  };

  it('turns a new post into a case with the author, text and link', async () => {
    const { poller, cursor } = await started();
    const post = reddit.addPost({
      title: 'Order #123 never arrived',
      selftext: 'Paid <twice> & still nothing.',
      author: 'jane_doe',
    });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(1);

    const [message] = await stored();
    expect(message).toMatchObject({
      sourceKey: 'reddit:AcmeCare',
      externalId: post.name,
      authorId: 'jane_doe',
      authorName: 'jane_doe',
      authorHandle: 'jane_doe',
      authorUrl: 'https://www.reddit.com/user/jane_doe',
      text: 'Order #123 never arrived\n\nPaid <twice> & still nothing.',
      url: `https://www.reddit.com${post.permalink}`,
      sentAt: new Date(post.createdUtc * 1000),
    });
    const [row] = await handle.db.select().from(cases);
    expect(row).toMatchObject({ platform: 'reddit', conversationId: post.name, channelId: 'CRDCARE' });

    const call = reddit.callsTo('GET', SUB_NEW).at(-1);
    expect(call?.query).toMatchObject({ limit: '100', raw_json: '1' });
    expect(call?.bearer).toMatch(/^fake-token-/);
    expect(call?.userAgent).toMatch(/^[a-z0-9]+:carebot:\d+\.\d+\.\d+ \(by \/u\/AcmeCare\)$/);
    expect(reddit.tokenCalls()[0]).toMatchObject({
      method: 'POST',
      basic: { user: account.clientId, password: account.clientSecret },
      form: { grant_type: 'password', username: 'AcmeCare', password: account.password },
    });
    expect(reddit.tokenCalls()[0]?.userAgent).toBe(call?.userAgent);
    expect(poller.key).toBe('reddit:AcmeCare:r/acme');
    expect(poller.label).toBe('Reddit r/acme (u/AcmeCare)');
  });

  it("joins a comment to its post's case, whichever poll brings it", async () => {
    const { poller, cursor } = await started();
    const post = reddit.addPost({ title: 'Refund?', selftext: 'Waiting for weeks', author: 'jane_doe' });
    clock.advance(seconds(5));
    const first = reddit.addComment({ parent: post, body: 'Same here', author: 'bob' });
    const second = ok(await poller.poll(context(cursor)));
    expect(second.stored).toBe(2);
    clock.advance(minutes(2));
    const reply = reddit.addComment({ parent: first, body: 'Any news?', author: 'jane_doe' });
    expect(ok(await poller.poll(context(second.cursor))).stored).toBe(1);

    const rows = await stored();
    expect(rows.map((m) => m.externalId)).toEqual([post.name, first.name, reply.name]);
    expect(new Set(rows.map((m) => m.caseId)).size).toBe(1);
    const [row] = await handle.db.select().from(cases);
    expect(row?.conversationId).toBe(post.name);
    expect(rows[2]).toMatchObject({ text: 'Any news?', url: `https://www.reddit.com${reply.permalink}` });
  });

  it("takes only posts and comments with the account's keywords, as whole words", async () => {
    const branded = { ...account, keywords: ['refund', 'late delivery'] };
    const { poller, cursor } = await started(subreddit(branded));
    const match = reddit.addPost({ title: 'REFUND please', author: 'jane_doe' });
    reddit.addPost({ title: 'I got refunded, thanks', author: 'bob' });
    const phrase = reddit.addPost({ title: 'Question', selftext: 'another late\ndelivery', author: 'carl' });
    const other = reddit.addPost({ title: 'Nice weather', author: 'dora' });
    // A comment under a matching post is part of that conversation even without the keyword.
    const under = reddit.addComment({ parent: match, body: 'same problem', author: 'erin' });
    reddit.addComment({ parent: other, body: 'indeed', author: 'fred' });
    const keyword = reddit.addComment({
      parent: other,
      body: 'off topic: where is my refund?',
      author: 'gus',
    });

    expect(ok(await poller.poll(context(cursor))).stored).toBe(4);
    expect((await stored()).map((m) => m.externalId).sort()).toEqual(
      [match.name, phrase.name, under.name, keyword.name].sort(),
    );
  });

  it('takes nothing old on the first poll, then what is new since it', async () => {
    const old = reddit.addPost({ title: 'old post', author: 'jane_doe', createdAt: '2026-11-23T09:00:00Z' });
    const oldComment = reddit.addComment({
      parent: old,
      body: 'old comment',
      author: 'bob',
      createdAt: '2026-11-23T09:30:00Z',
    });
    const poller = subreddit();
    const first = ok(await poller.poll(context(undefined)));
    expect(first.stored).toBe(0);
    expect(JSON.parse(first.cursor ?? '')).toEqual({
      posts: { name: old.name, createdUtc: old.createdUtc },
      comments: { name: oldComment.name, createdUtc: oldComment.createdUtc },
    });
    expect(await stored()).toHaveLength(0);
    expect(logs.join('')).toContain('first poll');

    clock.advance(minutes(2));
    const fresh = reddit.addPost({ title: 'new post', author: 'jane_doe' });
    const second = ok(await poller.poll(context(first.cursor)));
    expect(second.stored).toBe(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([fresh.name]);
    expect(JSON.parse(second.cursor ?? '').posts).toEqual({ name: fresh.name, createdUtc: fresh.createdUtc });
    // Nothing new: the cursor stays as it is.
    expect(ok(await poller.poll(context(second.cursor)))).toEqual({
      kind: 'ok',
      cursor: undefined,
      stored: 0,
    });
  });

  it('starts from the time of the first poll in an empty subreddit', async () => {
    const poller = subreddit();
    const first = ok(await poller.poll(context(undefined)));
    const startUtc = Date.parse('2026-11-23T10:00:00Z') / 1000;
    expect(JSON.parse(first.cursor ?? '')).toEqual({
      posts: { createdUtc: startUtc },
      comments: { createdUtc: startUtc },
    });
    clock.advance(minutes(1));
    reddit.addPost({ title: 'hello?', author: 'jane_doe' });
    expect(ok(await poller.poll(context(first.cursor))).stored).toBe(1);
  });

  it('stores nothing twice when polls overlap or repeat', async () => {
    const { poller, cursor } = await started();
    const post = reddit.addPost({ title: 'one', author: 'jane_doe' });
    reddit.addComment({ parent: post, body: 'two', author: 'bob' });
    const first = ok(await poller.poll(context(cursor)));
    expect(first.stored).toBe(2);
    // Another instance polling from the same cursor, and the same poll again.
    expect(ok(await poller.poll(context(cursor))).stored).toBe(0);
    expect(ok(await poller.poll(context(first.cursor))).stored).toBe(0);
    expect(await stored()).toHaveLength(2);
    expect(await handle.db.select().from(cases)).toHaveLength(1);
  });

  it('pages back with `after` to the last item seen, and stores oldest first', async () => {
    const { poller, cursor } = await started();
    const posts = Array.from({ length: 250 }, (_, i) => {
      clock.advance(seconds(1));
      return reddit.addPost({ title: `complaint ${i}`, author: `user${i}` });
    });
    const outcome = ok(await poller.poll(context(cursor)));
    expect(outcome.stored).toBe(250);
    const pages = reddit.callsTo('GET', SUB_NEW).slice(1);
    expect(pages.map((c) => c.query.after)).toEqual([undefined, posts[150]?.name, posts[50]?.name]);
    expect((await stored()).map((m) => m.externalId)).toEqual(posts.map((p) => p.name));

    // A later poll stops at the remembered post without reading further pages.
    clock.advance(minutes(2));
    reddit.addPost({ title: 'one more', author: 'jane_doe' });
    expect(ok(await poller.poll(context(outcome.cursor))).stored).toBe(1);
    expect(reddit.callsTo('GET', SUB_NEW)).toHaveLength(5);
  });

  it('stops at an older item when the remembered one was deleted', async () => {
    const { poller, cursor } = await started();
    const post = reddit.addPost({ title: 'first', author: 'jane_doe' });
    const after = ok(await poller.poll(context(cursor)));
    reddit.posts.splice(reddit.posts.indexOf(post), 1);
    clock.advance(minutes(2));
    reddit.addPost({ title: 'second', author: 'bob' });
    expect(ok(await poller.poll(context(after.cursor))).stored).toBe(1);
  });

  it("ignores the account's own posts and comments and deleted authors", async () => {
    const { poller, cursor } = await started();
    const post = reddit.addPost({ title: 'Update from the Acme team', author: 'AcmeCare' });
    const customer = reddit.addComment({ parent: post, body: 'Still broken', author: 'jane_doe' });
    reddit.addComment({ parent: customer, body: 'Sorry, we are on it', author: 'acmecare' });
    reddit.addComment({ parent: post, body: '[removed]', author: '[deleted]' });
    expect(ok(await poller.poll(context(cursor))).stored).toBe(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([customer.name]);
    expect((await handle.db.select().from(cases))[0]?.conversationId).toBe(post.name);
  });

  it('reads mentions and replies to the account from its inbox, each once', async () => {
    const inbox = redditInboxPoller(account, options());
    expect(inbox.key).toBe('reddit:AcmeCare:inbox');
    const { cursor } = await started(inbox);
    const elsewhere = reddit.addPost({ title: 'Who makes these?', author: 'jane_doe', subreddit: 'gadgets' });
    const mention = reddit.addComment({
      parent: elsewhere,
      body: 'ask u/AcmeCare & /u/acmecare',
      author: 'bob',
    });
    const ours = reddit.addComment({ parent: elsewhere, body: 'We do!', author: 'AcmeCare' });
    const reply = reddit.addComment({ parent: ours, body: 'then fix mine', author: 'jane_doe' });
    reddit.addMessage({ author: 'carl', to: 'AcmeCare', subject: 'hi', body: 'a private message' });

    const outcome = ok(await inbox.poll(context(cursor)));
    expect(outcome.stored).toBe(2);
    const rows = await stored();
    expect(rows.map((m) => m.externalId)).toEqual([mention.name, reply.name]);
    expect(rows[0]).toMatchObject({
      text: 'ask u/AcmeCare & /u/acmecare',
      url: `https://www.reddit.com${mention.permalink}?context=3`,
    });
    // Both join the case of the post they are under, though the inbox names no link_id.
    const [row] = await handle.db.select().from(cases);
    expect(row?.conversationId).toBe(elsewhere.name);
    expect(await handle.db.select().from(cases)).toHaveLength(1);
    expect(reddit.callsTo('GET', '/message/mentions').at(-1)?.query).toMatchObject({
      raw_json: '1',
      mark: 'false',
    });
    expect(reddit.callsTo('GET', '/message/inbox').at(-1)?.query).toMatchObject({
      raw_json: '1',
      mark: 'false',
    });
    expect(ok(await inbox.poll(context(outcome.cursor))).stored).toBe(0);
  });

  it('imports the backfill window on the very first poll, and nothing older', async () => {
    reddit.addPost({ title: 'too old', author: 'jane_doe', createdAt: '2026-11-21T10:00:00Z' });
    const inside = reddit.addPost({ title: 'recent', author: 'bob', createdAt: '2026-11-23T08:00:00Z' });
    const comment = reddit.addComment({
      parent: inside,
      body: 'me too',
      author: 'carl',
      createdAt: '2026-11-23T09:00:00Z',
    });
    const poller = subreddit(account, options({ backfillMs: hours(24) }));
    const first = ok(await poller.poll(context(undefined)));
    expect(first.stored).toBe(2);
    expect((await stored()).map((m) => m.externalId)).toEqual([inside.name, comment.name]);
    expect(logs.join('')).toContain('backfill: 2 stored');
    expect(JSON.parse(first.cursor ?? '').posts.name).toBe(inside.name);
  });

  it('keeps one token until shortly before it expires, and renews it once on a 401', async () => {
    await reddit.close();
    reddit = await startFakeReddit({
      credentials: [credentialsOf(account)],
      now: () => clock.now(),
      expiresIn: 3600,
    });
    const [inbox, sub] = redditPollers(account, options());
    if (!inbox || !sub) throw new Error('expected two pollers');
    const a = await started(inbox);
    const b = await started(sub);
    // Two pollers, two listings each: one sign-in.
    expect(reddit.tokenCalls()).toHaveLength(1);
    clock.advance(minutes(57)); // 58 minutes since the sign-in
    ok(await sub.poll(context(b.cursor)));
    expect(reddit.tokenCalls()).toHaveLength(1);
    // Within a minute of expiry a new token is fetched before the request.
    clock.advance(seconds(61));
    ok(await sub.poll(context(b.cursor)));
    expect(reddit.tokenCalls()).toHaveLength(2);
    expect(reddit.calls.filter((c) => c.status === 401)).toHaveLength(0);

    // Revoked: the 401 brings one new token and the same request again.
    reddit.revokeTokens();
    const post = reddit.addPost({ title: 'still here', author: 'jane_doe' });
    const outcome = ok(await sub.poll(context(b.cursor)));
    expect(outcome.stored).toBe(1);
    expect(reddit.tokenCalls()).toHaveLength(3);
    expect(reddit.calls.filter((c) => c.status === 401)).toHaveLength(1);
    expect((await stored()).map((m) => m.externalId)).toEqual([post.name]);
    ok(await inbox.poll(context(a.cursor)));
    expect(reddit.tokenCalls()).toHaveLength(3);
  });

  it('waits for the reset when x-ratelimit-remaining runs out, or on a 429', async () => {
    const { poller, cursor } = await started();
    reddit.addPost({ title: 'complaint', author: 'jane_doe' });
    // The posts listing spends the last request; the comments listing is not even asked for.
    reddit.setRateLimit({ remaining: 1, resetIn: 300 });
    const before = reddit.calls.length;
    const outcome = await poller.poll(context(cursor));
    expect(outcome).toEqual({ kind: 'rate_limited', retryAt: new Date(clock.now().getTime() + 300_000) });
    expect(reddit.calls.length - before).toBe(1);
    expect(reddit.calls.at(-1)?.path).toBe(SUB_NEW);
    expect(await stored()).toHaveLength(0);
    // Until the reset nothing is sent.
    clock.advance(seconds(100));
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'rate_limited' });
    expect(reddit.calls.length - before).toBe(1);
    clock.advance(seconds(200));
    expect(ok(await poller.poll(context(cursor))).stored).toBe(1);

    reddit.failNext(SUB_COMMENTS, { status: 429, headers: { 'x-ratelimit-reset': '42' } });
    expect(await poller.poll(context(cursor))).toEqual({
      kind: 'rate_limited',
      retryAt: new Date(clock.now().getTime() + 42_000),
    });
  });

  it('reports a wrong password or app secret once with what to do, and never the secrets', async () => {
    const wrong = { ...account, password: 'rd-test-wrong-password' };
    const outcome = await subreddit(wrong).poll(context(undefined));
    expect(outcome.kind).toBe('auth_failed');
    if (outcome.kind !== 'auth_failed') return;
    expect(outcome.reason).toContain('u/AcmeCare');
    expect(outcome.reason).toContain('invalid_grant');
    expect(outcome.hint).toContain('username and password of the account "brand"');
    expect(outcome.hint).toContain('carebot.config.yaml');
    expect(outcome.hint).toContain('created it');

    const badSecret = { ...account, clientSecret: 'rd-test-wrong-secret', name: 'default' };
    const secretOutcome = await subreddit(badSecret).poll(context(undefined));
    expect(secretOutcome).toMatchObject({ kind: 'auth_failed' });
    expect(secretOutcome.kind === 'auth_failed' && secretOutcome.hint).toContain(
      'REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET',
    );
    const defaultWrong = await subreddit({ ...wrong, name: 'default' }).poll(context(undefined));
    expect(defaultWrong.kind === 'auth_failed' && defaultWrong.hint).toContain(
      'REDDIT_USERNAME and REDDIT_PASSWORD',
    );

    const text = JSON.stringify([outcome, secretOutcome, defaultWrong]) + logs.join('');
    for (const secret of [account.password, account.clientSecret, wrong.password, badSecret.clientSecret]) {
      expect(text).not.toContain(secret);
    }
    expect(reddit.callsTo('GET', '/r/')).toHaveLength(0);
  });

  it('pauses on a closed or missing subreddit, and retries errors and an unreachable Reddit', async () => {
    const { poller, cursor } = await started();
    reddit.failNext(SUB_NEW, { status: 403 });
    const closed = await poller.poll(context(cursor));
    expect(closed).toMatchObject({ kind: 'auth_failed', reason: expect.stringContaining('r/acme') });
    expect(closed.kind === 'auth_failed' && closed.hint).toContain('approve u/AcmeCare');

    reddit.failNext(SUB_NEW, { status: 302, headers: { location: '/subreddits/search.json?q=acme' } });
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'auth_failed' });
    reddit.failNext(SUB_NEW, { status: 404 });
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'auth_failed' });

    reddit.failNext(SUB_COMMENTS, { status: 503 });
    expect(await poller.poll(context(cursor))).toEqual({
      kind: 'failed',
      reason: 'Reddit had an error (HTTP 503)',
    });
    reddit.failNext('/api/v1/access_token', { status: 500 });
    const unreachable = subreddit(
      account,
      options({ apiUrl: 'http://127.0.0.1:9', authUrl: 'http://127.0.0.1:9' }),
    );
    expect(await unreachable.poll(context(cursor))).toEqual({
      kind: 'failed',
      reason: 'Reddit could not be reached',
    });
    reddit.failNext(SUB_NEW, { status: 200, body: '<html>oops</html>' });
    expect(await poller.poll(context(cursor))).toMatchObject({ kind: 'failed' });
  });

  it('makes one inbox poller per account and one per subreddit', () => {
    const two = { ...account, subreddits: ['acme', 'AcmeSupport'] };
    expect(redditPollers(two, options()).map((p) => [p.key, p.label, p.everyMs])).toEqual([
      ['reddit:AcmeCare:inbox', 'Reddit inbox of u/AcmeCare', minutes(2)],
      ['reddit:AcmeCare:r/acme', 'Reddit r/acme (u/AcmeCare)', minutes(2)],
      ['reddit:AcmeCare:r/AcmeSupport', 'Reddit r/AcmeSupport (u/AcmeCare)', minutes(2)],
    ]);
    expect(redditPollers({ ...account, subreddits: [] }, options()).map((p) => p.key)).toEqual([
      'reddit:AcmeCare:inbox',
    ]);
  });
});
