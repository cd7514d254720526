import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { recordInbound } from '../../src/care/case-inbound.js';
import { OPENING, openingValues } from '../../src/care/case-opening.js';
import { systemClock } from '../../src/care/clock.js';
import type { InboundMessage } from '../../src/care/inbound.js';
import { assess } from '../../src/care/priority.js';
import { slaSettings } from '../../src/care/sla.js';
import { loadConfig } from '../../src/config.js';
import { type Database, withValues } from '../../src/db/client.js';
import { BOT_TOKEN, CARE_CHANNEL, SIGNING_SECRET, writeConfig } from '../../test/reliability/support/env.js';

/** What carebot's storing code is given in the ingest benchmarks: the default config's settings. */
const benchConfig = loadConfig({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  CARE_CHANNEL_ID: CARE_CHANNEL,
  CARE_CONFIG: writeConfig(''),
});
export const storeOptions = {
  reopenWithin: benchConfig.reopenWithin,
  sla: slaSettings(benchConfig),
  rules: benchConfig.escalation.rules,
};

/** A new complaint, as the webhook source hands it to care. */
export const complaint = (id: string): InboundMessage => ({
  sourceKey: 'webhook:forum',
  platform: 'webhook',
  externalId: id,
  conversationId: `t-${id}`,
  author: { id: `u-${id}`, name: 'Jane Doe', handle: 'jane', url: 'https://forum.example/u/jane' },
  text: `My order never arrived [${id}]`,
  url: 'https://forum.example/t/1',
  sentAt: new Date(),
  channelId: CARE_CHANNEL,
});

/**
 * carebot's storing code (`recordInbound`: dedupe, assessment, the statement, SLA) called directly,
 * `workers` at a time, for `seconds`: new complaints stored per second.
 */
export async function storeDirectly(db: Database, workers: number, seconds: number, prefix: string) {
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        await recordInbound(db, systemClock, complaint(`${prefix}${w}-${i}`), storeOptions);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

/**
 * carebot's own statement for a new complaint (care/case-opening.ts: case with its priority and
 * deadlines, message, first events, in one statement), with its values computed once; each run only
 * puts its complaint's id into the parameters, so the loop measures the database's side of storing
 * a complaint and nothing of carebot's (no assessment, no deadlines).
 */
const MARKER = 'ID-MARKER';
const OPENING_PARAMS = (() => {
  const msg = complaint(MARKER);
  return withValues(
    OPENING,
    openingValues(new Date(), msg, assess({ text: msg.text }, storeOptions.rules), storeOptions),
  ).params;
})();

export function openingQuery(id: string): { text: string; params: unknown[] } {
  return {
    text: OPENING.text,
    params: OPENING_PARAMS.map((p) => (typeof p === 'string' ? p.replaceAll(MARKER, id) : p)),
  };
}

/**
 * A driver configured as carebot's is, for the baselines that run the opening statement themselves:
 * postgres.js with carebot's 10 connections, and drizzle's serializers (drizzle sets the driver's
 * JSON and date serializers to pass text through, so a JSON parameter cast to jsonb is sent as it
 * is, not quoted as a JSON string).
 */
export function statementClient(url: string): postgres.Sql {
  const sql = postgres(url, { max: 10, onnotice: () => {}, fetch_types: false });
  drizzle(sql);
  return sql;
}
