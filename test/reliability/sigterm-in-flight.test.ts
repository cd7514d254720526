import { once } from 'node:events';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nextTs, postThreadMessage } from '../../emulators/slack/events.js';
import { blockActionPayload, postSlackInteraction } from '../../emulators/slack/signing.js';
import { type FakeSlack, startFakeSlack } from '../../emulators/slack/web-api.js';
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

    const storedTexts = new Set((await sql<{ text: string }[]>`select text from replies`).map((r) => r.text));
    const owners = new Map(
      (await sql<{ id: number; owner_id: string | null }[]>`select id, owner_id from cases`).map((c) => [
        Number(c.id),
        c.owner_id,
      ]),
    );
    const statuses = (answers: Array<{ status: number }>) =>
      answers.reduce<Record<number, number>>((acc, a) => {
        acc[a.status] = (acc[a.status] ?? 0) + 1;
        return acc;
      }, {});
    // Lost: acknowledged to Slack (HTTP 200), yet not in the database. An answer other than 200
    // makes Slack deliver the event again (deduplicated by its ts), so it is not lost.
    const lostReplies = replyAnswers.filter(
      (a, i) => a.status === 200 && !storedTexts.has(`Sorry about that, checking now [reply-${i}]`),
    ).length;
    const lostClicks = clickAnswers.filter(
      (a, j) => a.status === 200 && owners.get(Number(cards[EACH + j]?.[0])) !== members[EACH + j],
    ).length;
    const figures = {
      threadReplies: EACH,
      claimClicks: EACH,
      lookupMs: LOOKUP_MS,
      replyAnswers: statuses(replyAnswers),
      repliesStored: storedTexts.size,
      clickAnswers: statuses(clickAnswers),
      casesClaimed: [...owners.values()].filter(Boolean).length,
      lost: lostReplies + lostClicks,
      stopMs,
      exitCode: code,
    };
    figure('sigterm-in-flight', figures);
    expect(code).toBe(0);
    expect(figures.clickAnswers).toEqual({ 200: EACH });
    expect(figures.lost).toBe(0);
    // Each reply was stored before the exit, whatever its answer, and claimed its unclaimed case.
    expect(storedTexts.size).toBe(EACH);
    expect(figures.casesClaimed).toBe(2 * EACH);
  });
});
