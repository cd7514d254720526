import type { Server } from 'node:http';
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeGraph,
  fakeFacebookPage,
  pageDelivery,
  signedDelivery,
  startFakeGraph,
} from '../../emulators/graph/api.js';
import { isInboundStored, recordInbound } from '../../src/care/case-inbound.js';
import { loadCaseView } from '../../src/care/case-view.js';
import { hours, minutes } from '../../src/care/clock.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { messages } from '../../src/db/schema.js';
import { createHttpServer, listen } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { caseCard } from '../../src/slack/case-card.js';
import { messengerProfiles } from '../../src/sources/facebook/profiles.js';
import { FACEBOOK_WEBHOOK_PATH, facebookWebhookHandler } from '../../src/sources/facebook/webhook.js';
import { ManualClock } from '../support/clock.js';
import { createTestDatabase, truncateAll } from '../support/database.js';

// A Messenger delivery names the sender by a page-scoped id only; a card that read
// "Case #3 from 3424692677644577" names nobody. carebot asks the User Profile API once per person.

const brand = fakeFacebookPage();
const JANE = '3424692677644577';
const PRIVATE = '3424692677644999';

describe('Messenger customers by name', () => {
  let handle: DatabaseHandle;
  let graph: FakeGraph;
  let server: Server;
  let base: string;
  const clock = new ManualClock('2026-11-23T10:00:00Z');

  beforeAll(async () => {
    handle = await createTestDatabase();
    graph = await startFakeGraph({ pages: [brand], now: () => clock.now() });
    graph.addMessengerUser({
      psid: JANE,
      firstName: 'Jane',
      lastName: 'Doe',
      profilePic: 'https://cdn.example/j.png',
    });
    const logger = createLogger('silent');
    const handler = facebookWebhookHandler({
      pages: [brand],
      record: (message) => recordInbound(handle.db, clock, message),
      recordChange: async () => {},
      onStored: () => {},
      logger,
      clock,
      isStored: (sourceKey, externalId) => isInboundStored(handle.db, sourceKey, externalId),
      profileOf: messengerProfiles({ apiUrl: graph.url, apiVersion: 'v21.0' }, clock, logger),
    });
    server = createHttpServer({ [`POST ${FACEBOOK_WEBHOOK_PATH}`]: handler }, logger);
    base = `http://127.0.0.1:${await listen(server, 0)}${FACEBOOK_WEBHOOK_PATH}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await graph.close();
    await handle.close();
  });
  beforeEach(async () => {
    await truncateAll(handle);
    graph.calls.length = 0;
  });

  const post = async (payload: unknown) => {
    const { body, headers } = signedDelivery(brand.appSecret, payload);
    const res = await fetch(base, { method: 'POST', headers, body });
    return (await res.json()) as Record<string, unknown>;
  };
  const message = (psid: string, mid: string, text: string) =>
    pageDelivery(brand.pageId, {
      messaging: [
        {
          sender: { id: psid },
          recipient: { id: brand.pageId },
          timestamp: Date.parse('2026-11-23T09:58:00Z'),
          message: { mid, text },
        },
      ],
    });
  const profileCalls = (psid: string) => graph.callsTo('GET', `/${psid}`);

  it('names the customer on the card from the User Profile API, asking once per person', async () => {
    expect(await post(message(JANE, 'm_1', 'My order is late'))).toEqual({ stored: 1, changes: 0 });
    // Meta redelivers, and Jane writes again: neither costs a second lookup.
    expect(await post(message(JANE, 'm_1', 'My order is late'))).toEqual({ stored: 0, changes: 0 });
    expect(await post(message(JANE, 'm_2', 'Hello?'))).toEqual({ stored: 1, changes: 0 });
    const calls = profileCalls(JANE);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.query.fields).toBe('first_name,last_name');
    expect(calls[0]?.proofValid).toBe(true);
    const rows = await handle.db.select().from(messages).orderBy(asc(messages.id));
    expect(rows.map((m) => [m.authorId, m.authorName])).toEqual([
      [JANE, 'Jane Doe'],
      [JANE, 'Jane Doe'],
    ]);
    const view = await loadCaseView(handle.db, rows[0]?.caseId as number);
    const card = JSON.stringify(caseCard(view as NonNullable<typeof view>, []));
    expect(card).toContain('Jane Doe');
    expect(card).not.toContain(JANE);
  });

  it('shows the id when the lookup is refused, and does not ask again within the hour', async () => {
    await post(message(PRIVATE, 'm_p1', 'Refund please'));
    await post(message(PRIVATE, 'm_p2', 'Anyone?'));
    expect(profileCalls(PRIVATE)).toHaveLength(1);
    const rows = await handle.db.select().from(messages).orderBy(asc(messages.id));
    expect(rows.map((m) => [m.authorId, m.authorName])).toEqual([
      [PRIVATE, null],
      [PRIVATE, null],
    ]);
    clock.advance(minutes(61));
    await post(message(PRIVATE, 'm_p3', 'Still here'));
    expect(profileCalls(PRIVATE)).toHaveLength(2);
  });

  it('stores the message at once when Graph is down, without a name', async () => {
    graph.failNext(`/${JANE}`, {
      status: 500,
      error: { code: 2, message: 'Service temporarily unavailable' },
    });
    clock.advance(hours(25)); // Jane's name is no longer remembered
    expect(await post(message(JANE, 'm_down', 'Hello'))).toEqual({ stored: 1, changes: 0 });
    const [row] = await handle.db.select().from(messages);
    expect(row?.authorName).toBeNull();
    // A failure of Graph's own is not remembered: the next message asks again.
    await post(message(JANE, 'm_up', 'Hello again'));
    const rows = await handle.db.select().from(messages).orderBy(asc(messages.id));
    expect(rows.map((m) => m.authorName)).toEqual([null, 'Jane Doe']);
  });
});
