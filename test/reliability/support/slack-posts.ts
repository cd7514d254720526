import type { SlackCall } from '../../../emulators/slack/web-api.js';

/** Successful `chat.postMessage` calls that opened a case thread (the card), by case id. */
export function cardPostsByCase(calls: SlackCall[]): Map<number, SlackCall[]> {
  const byCase = new Map<number, SlackCall[]>();
  for (const call of calls) {
    if (call.method !== 'chat.postMessage' || !call.ok || call.params.thread_ts) continue;
    const metadata = call.params.metadata as { event_payload?: { case_id?: unknown } } | undefined;
    const caseId = Number(metadata?.event_payload?.case_id);
    if (!Number.isInteger(caseId)) continue;
    byCase.set(caseId, [...(byCase.get(caseId) ?? []), call]);
  }
  return byCase;
}

/** Successful posts whose text or blocks contain the marker (a message id wrapped in brackets). */
export function postsMentioning(calls: SlackCall[], marker: string): SlackCall[] {
  return calls.filter(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.ok &&
      (String(c.params.text ?? '').includes(marker) ||
        JSON.stringify(c.params.blocks ?? '').includes(marker)),
  );
}

/** Message ids (`[id]` markers) in the order their posts reached Slack. */
export function markersInOrder(calls: SlackCall[], pattern = /\[([^\]\s]+)\]/): string[] {
  const ids: string[] = [];
  for (const c of calls) {
    if (c.method !== 'chat.postMessage' || !c.ok) continue;
    const match = pattern.exec(String(c.params.text ?? ''));
    if (match?.[1]) ids.push(match[1]);
  }
  return ids;
}

/**
 * Successful posts per `[id]` marker (in text or blocks), counted once per post. Incremental: each
 * `update` reads only the calls added since the last, so a long run can ask often.
 */
export function postCounter(pattern = /\[([^\]\s]+)\]/g) {
  const counts = new Map<string, number>();
  let seen = 0;
  return {
    update(calls: SlackCall[]): Map<string, number> {
      for (; seen < calls.length; seen++) {
        const c = calls[seen] as SlackCall;
        if (c.method !== 'chat.postMessage' || !c.ok) continue;
        const markers = new Set<string>();
        for (const source of [String(c.params.text ?? ''), JSON.stringify(c.params.blocks ?? '')]) {
          for (const match of source.matchAll(pattern)) if (match[1]) markers.add(match[1]);
        }
        for (const m of markers) counts.set(m, (counts.get(m) ?? 0) + 1);
      }
      return counts;
    },
  };
}
