import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  blockActionPayload,
  postSlackInteraction,
  viewSubmissionPayload,
} from '../../emulators/slack/signing.js';
import { CARE_CHANNEL, complaint, postWebhook, SIGNING_SECRET, type TestCarebot, tsOf } from './carebot.js';

export const CRISIS_CHANNEL = 'C0CRISIS01';

/** A carebot.config.yaml for crisis tests: the given lines under `crisis:` and any top-level ones. */
export function crisisConfig(crisisLines: string[], topLevel: string[] = []): string {
  const path = join(mkdtempSync(join(tmpdir(), 'carebot-crisis-')), 'carebot.config.yaml');
  writeFileSync(
    path,
    [...topLevel, 'crisis:', `  channel: ${CRISIS_CHANNEL}`, ...crisisLines.map((l) => `  ${l}`)].join('\n'),
  );
  return path;
}

/** `n` complaints at the clock's current time, each its own conversation. */
export async function complaints(t: TestCarebot, n: number, text: string, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await postWebhook(
      t,
      complaint({
        id: `${prefix}-${i}`,
        conversationId: `${prefix}-${i}`,
        text: `${text} (${i})`,
        author: { id: `${prefix}-author-${i}`, name: `Customer ${prefix} ${i}`, handle: `c_${prefix}_${i}` },
      }),
    );
    expect(res.status).toBe(202);
  }
}

export const postedTo = (t: TestCarebot, channel: string) =>
  t.slack.callsTo('chat.postMessage').filter((c) => c.params.channel === channel);

/** Presses a button on a message, as `userId`. */
export function press(
  t: TestCarebot,
  actionId: string,
  value: string,
  userId: string,
  where: { channel?: string; ts?: string } = {},
) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    blockActionPayload({
      actionId,
      value,
      userId,
      channelId: where.channel ?? CARE_CHANNEL,
      messageTs: where.ts ?? '1764000000.000100',
    }),
  );
}

export function submit(
  t: TestCarebot,
  callbackId: string,
  userId: string,
  privateMetadata: string,
  values: Parameters<typeof viewSubmissionPayload>[0]['values'],
  viewId?: string,
) {
  return postSlackInteraction(
    t.url,
    SIGNING_SECRET,
    viewSubmissionPayload({ callbackId, userId, privateMetadata, values, ...(viewId ? { viewId } : {}) }),
  );
}

/** The ts of the card of case `caseId` (posted with its id in the metadata). */
export function cardTs(t: TestCarebot, caseId: number): string {
  const call = t.slack
    .callsTo('chat.postMessage')
    .find(
      (c) =>
        (c.params.metadata as { event_payload?: { case_id?: number } } | undefined)?.event_payload
          ?.case_id === caseId,
    );
  return tsOf(call);
}
