import { once } from 'node:events';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { nextTs, postThreadMessage } from '../support/slack-events.js';
import { blockActionPayload, postSlackInteraction } from '../support/slack-signing.js';
import { complaint, postComplaint, sleep } from './support/complaints.js';
import { createDatabase, type ScratchDatabase } from './support/database.js';
import { CARE_CHANNEL, carebotEnv, SIGNING_SECRET } from './support/env.js';
import { figure, reliability } from './support/gate.js';
import { setting } from './support/mode.js';
import { type CarebotProcess, startCarebotProcess } from './support/process.js';
import { cardPostsByCase } from './support/slack-posts.js';

/** Thread replies and Claim clicks in flight at the SIGTERM (as many of each). */
const EACH = setting('RELIABILITY_SIGTERM_EACH', 40, 10);
/** How long Slack takes to answer the user-group lookup every one of them waits on. */
const LOOKUP_MS = 1000;
const CARE_GROUP = 'S0CARE0001';

reliability('SIGTERM while thread replies and Claim clicks wait on a slow Slack lookup', () => {
  let slack: FakeSlack;
  let db: ScratchDatabase;
  let sql: postgres.Sql;
  let carebot: CarebotProcess | undefined;

  beforeAll(async () => {
    slack = await startFakeSlack();
    db = await createDatabase();
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await carebot?.kill();
    await sql?.end({ timeout: 5 });
    await db?.drop();
    await slack?.close();
  });

  it('stores every acknowledged reply and claim before the process exits', async () => {
    const members = Array.from({ length: 2 * EACH }, (_, i) => `U0CARE${String(i).padStart(4, '0')}`);
    slack.usergroupMembers.set(CARE_GROUP, members);
    const p = await startCarebotProcess(
      carebotEnv({
        slackUrl: slack.url,
        databaseUrl: db.url,
        configYaml: `care_team_usergroup: ${CARE_GROUP}\nreply_delay: 60s\n`,
      }),
      { schedule: false },
    );
    carebot = p;
    for (let i = 0; i < 2 * EACH; i++) {
      const answer = await postComplaint(p.url, complaint(`sig-${i}`));
      expect(answer.status).toBe(202);
    }
    await p.sync();
    const cards = [...cardPostsByCase(slack.calls).entries()].sort(([a], [b]) => a - b);
    expect(cards).toHaveLength(2 * EACH);
    const threadOf = (i: number) => String(cards[i]?.[1][0]?.response?.ts);

    slack.delays.set('usergroups.users.list', LOOKUP_MS);
    const replies = Array.from({ length: EACH }, (_, i) =>
      postThreadMessage(p.url, SIGNING_SECRET, {
        channel: CARE_CHANNEL,
        threadTs: threadOf(i),
        user: members[i] as string,
        text: `Sorry about that, checking now [reply-${i}]`,
        ts: nextTs(),
      }).catch((err: Error) => ({ status: 0, body: err.message })),
    );
    const clicks = Array.from({ length: EACH }, (_, j) =>
      postSlackInteraction(
        p.url,
        SIGNING_SECRET,
        blockActionPayload({
          actionId: 'case_claim',
          value: String(cards[EACH + j]?.[0]),
          userId: members[EACH + j] as string,
          channelId: CARE_CHANNEL,
          messageTs: threadOf(EACH + j),
        }),
      ).catch((err: Error) => ({ status: 0, body: err.message })),
    );
    const clickAnswers = await Promise.all(clicks);
    await sleep(200);
    const termAt = Date.now();
    const exited = once(p.child, 'exit');
    p.child.kill('SIGTERM');
    const [code] = await exited;
    const stopMs = Date.now() - termAt;
    const replyAnswers = await Promise.all(replies);

    const [stored] = await sql<{ n: number }[]>`select count(*)::int as n from replies`;
    const [owned] = await sql<
      { n: number }[]
    >`select count(*)::int as n from cases where owner_id is not null`;
    const repliesAcked = replyAnswers.filter((a) => a.status === 200).length;
    const clicksAcked = clickAnswers.filter((a) => a.status === 200).length;
    const figures = {
      threadReplies: EACH,
      claimClicks: EACH,
      lookupMs: LOOKUP_MS,
      repliesAcked,
      repliesStored: stored?.n,
      clicksAcked,
      casesClaimed: owned?.n,
      lost: repliesAcked - (stored?.n ?? 0) + (clicksAcked - ((owned?.n ?? 0) - (stored?.n ?? 0))),
      stopMs,
      exitCode: code,
    };
    figure('sigterm-in-flight', figures);
    expect(code).toBe(0);
    expect(clicksAcked).toBe(EACH);
    // Every reply is acknowledged only once stored, and all of them were stored before the exit.
    expect(repliesAcked).toBe(EACH);
    expect(stored?.n).toBe(EACH);
    // A reply claims its unclaimed case; every click claimed its own.
    expect(owned?.n).toBe(2 * EACH);
    expect(figures.lost).toBe(0);
  });
});
