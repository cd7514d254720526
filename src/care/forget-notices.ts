import { eq, or, sql } from 'drizzle-orm';
import { slackNotices } from '../db/schema.js';
import type { Tx } from '../db/tx.js';
import { queueChannelMessage } from './channel-messages.js';

/**
 * Channel messages that quote cases: a crisis alert lists sample cases as
 * `• Case #12 (X): what the customer wrote`. When a case is erased its line keeps the case number
 * and platform and loses the words, in the stored notice and (through a replacing notice, which the
 * Slack sync sends as `chat.update`) in Slack.
 */
export async function redactCrisisSamples(
  tx: Tx,
  caseIds: number[],
  marker: string,
  now: Date,
): Promise<void> {
  if (!caseIds.length) return;
  const rows = await tx
    .select()
    .from(slackNotices)
    .where(
      or(
        ...caseIds.map((id) => sql`${slackNotices.blocks}::text like ${`%Case #${id} (%`}`),
        ...caseIds.map((id) => sql`${slackNotices.text} like ${`%Case #${id} (%`}`),
      ),
    );
  for (const row of rows) {
    const text = redactLines(row.text, caseIds, marker);
    const blocks = row.blocks ? (redactValue(row.blocks, caseIds, marker) as unknown[]) : null;
    await tx.update(slackNotices).set({ text, blocks }).where(eq(slackNotices.id, row.id));
    if (!row.postedTs) continue;
    await queueChannelMessage(tx, {
      key: `redact:${row.key}:${now.getTime()}`,
      channelId: row.channelId,
      text,
      blocks: blocks ?? undefined,
      replacesKey: row.replacesKey ?? row.key,
      now,
    });
  }
}

function redactLines(text: string, caseIds: number[], marker: string): string {
  let out = text;
  for (const id of caseIds)
    out = out.replace(new RegExp(`(Case #${id} \\([^)\\n]*\\): )[^\\n]*`, 'g'), `$1${marker}`);
  return out;
}

function redactValue(value: unknown, caseIds: number[], marker: string): unknown {
  if (typeof value === 'string') return redactLines(value, caseIds, marker);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, caseIds, marker));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, caseIds, marker)]));
  return value;
}
