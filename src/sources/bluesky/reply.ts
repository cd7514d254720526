import { AtUri, RichText } from '@atproto/api';
import { type Clock, systemClock } from '../../care/clock.js';
import type { Logger } from '../../logger.js';
import { accountGone, refused, tooLong, tryAgain } from '../reply-outcomes.js';
import type { ReplyAdapter, ReplyOutcome, ReplyRequest } from '../types.js';
import type { BlueskyClient, BlueskyProblem } from './client.js';
import { BLUESKY_MAX_GRAPHEMES, graphemeLength, replyRecordKey } from './limits.js';
import { postRecord, postUrl, sourceKeyOf } from './normalize.js';

const POST = 'app.bsky.feed.post';

/**
 * Replies on Bluesky as the account the case came in on: a post in the thread, under the
 * customer's latest post (`com.atproto.repo.createRecord` with `reply.root` and `reply.parent`).
 * Bluesky has no idempotency key, so the record key is derived from the reply's: a resend lands on
 * the same key, which the repository holds once; when an attempt ended without a clear answer, the
 * next one first reads that key (`com.atproto.repo.getRecord`) and, finding the post, is done.
 */
export function blueskyReplyAdapter(
  clients: BlueskyClient[],
  clock: Clock = systemClock,
  logger?: Logger,
): ReplyAdapter {
  const bySource = new Map(clients.map((c) => [sourceKeyOf(c.account), c]));

  return {
    label: () => 'Bluesky',
    async reply(request: ReplyRequest): Promise<ReplyOutcome> {
      const client = bySource.get(request.sourceKey.toLowerCase());
      if (!client) return accountGone(`Bluesky account for ${request.sourceKey}`);
      if (request.mode === 'private') {
        return refused(
          'carebot answers Bluesky cases only in the thread: Bluesky chats are a separate service carebot does not use; answer in public, or write to the customer on Bluesky yourself',
        );
      }
      const parentUri = request.inReplyTo ?? request.conversationId;
      let parentAt: AtUri;
      try {
        parentAt = new AtUri(parentUri);
      } catch {
        return refused(
          `there is no Bluesky post to answer in this case (${parentUri.slice(0, 80)} is not one)`,
        );
      }
      const length = graphemeLength(request.text);
      if (length > BLUESKY_MAX_GRAPHEMES) {
        return tooLong('reply', length, `and Bluesky allows ${BLUESKY_MAX_GRAPHEMES} in a post`);
      }
      const session = await client.session(clock);
      if (!session.ok) return problemOutcome(client, clock, session.problem, false);
      const { did, handle } = session.value;
      const rkey = replyRecordKey(did, request.idempotencyKey, parentAt.rkey);
      const sent = (uri: string): ReplyOutcome => ({ ok: true, externalId: uri, url: postUrl(uri, handle) });

      if (request.outcomeUnknown) {
        const earlier = await findEarlier(client, did, rkey, parentUri, request.text);
        if (earlier === 'ours') return sent(`at://${did}/${POST}/${rkey}`);
      }

      // Strong references (uri and cid) of the post answered and of its thread's root.
      const parents = await client.call(clock, (agent) =>
        agent.app.bsky.feed.getPosts({ uris: [parentUri] }),
      );
      if (!parents.ok) return problemOutcome(client, clock, parents.problem, false);
      const parent = parents.value.posts.find((p) => p.uri === parentUri);
      if (!parent)
        return refused('the Bluesky post being answered was deleted, or its author blocks the account');
      const parentRecord = postRecord.safeParse(parent.record);
      const parentRef = { uri: parent.uri, cid: parent.cid };
      const root = parentRecord.success && parentRecord.data.reply ? parentRecord.data.reply.root : parentRef;

      const rt = new RichText({ text: request.text });
      await rt.detectFacets(client.agent);
      // A @handle that resolves to nobody stays plain text.
      const facets = (rt.facets ?? [])
        .map((f) => ({
          ...f,
          features: f.features.filter((x) => !('did' in x) || (typeof x.did === 'string' && x.did !== '')),
        }))
        .filter((f) => f.features.length > 0);

      const record = {
        $type: POST,
        text: rt.text,
        createdAt: clock.now().toISOString(),
        reply: { root: { uri: root.uri, cid: root.cid }, parent: parentRef },
        ...(facets.length ? { facets } : {}),
      };
      const create = (key: string | undefined) =>
        client.call(clock, (agent) =>
          agent.com.atproto.repo.createRecord({
            repo: did,
            collection: POST,
            ...(key ? { rkey: key } : {}),
            record,
          }),
        );
      const created = await create(rkey);
      if (created.ok) return sent(created.value.uri);

      const { problem } = created;
      // The key is taken (a resend the repository refused), or the answer was lost: is the post there?
      const unclear =
        problem.kind === 'unavailable' || (problem.kind === 'refused' && /exist/i.test(problem.message));
      if (unclear) {
        const earlier = await findEarlier(client, did, rkey, parentUri, request.text);
        if (earlier === 'ours') return sent(`at://${did}/${POST}/${rkey}`);
        if (earlier === 'other') {
          // Another post holds the key (replies of an older database): this one gets a fresh key.
          logger?.warn(
            { rkey },
            'bluesky: reply record key already used by another post; sending with a new key',
          );
          const again = await create(undefined);
          if (again.ok) return sent(again.value.uri);
          return problemOutcome(client, clock, again.problem, false);
        }
      }
      return problemOutcome(client, clock, problem, problem.kind === 'unavailable');
    },
  };

  /** Whether the reply's record key holds this reply ('ours'), another post, or nothing (or unknown). */
  async function findEarlier(
    client: BlueskyClient,
    did: string,
    rkey: string,
    parentUri: string,
    text: string,
  ): Promise<'ours' | 'other' | undefined> {
    const got = await client.call(clock, (agent) =>
      agent.com.atproto.repo.getRecord({ repo: did, collection: POST, rkey }),
    );
    if (!got.ok) return undefined;
    const value = postRecord.safeParse(got.value.value);
    if (!value.success) return 'other';
    return value.data.reply?.parent.uri === parentUri && value.data.text.trim() === text.trim()
      ? 'ours'
      : 'other';
  }
}

function problemOutcome(
  client: BlueskyClient,
  clock: Clock,
  problem: BlueskyProblem,
  outcomeUnknown: boolean,
): ReplyOutcome {
  switch (problem.kind) {
    case 'rate_limited':
      return tryAgain(
        `Bluesky is rate limiting @${client.account.identifier}; the reply goes out after the limit resets`,
        { retryAfterMs: Math.max(0, problem.retryAt.getTime() - clock.now().getTime()) },
      );
    case 'auth_failed':
      return { ok: false, permanent: true, reason: `${problem.reason}. ${problem.hint}`, credentials: true };
    case 'unavailable':
      return tryAgain(
        `${problem.reason}; carebot tries again`,
        outcomeUnknown ? { outcomeUnknown: true } : {},
      );
    case 'refused':
      return refused(`Bluesky refused the reply (${problem.error}: ${problem.message})`);
  }
}
