import type { CsatFigures } from '../care/stats-csat.js';
import { platformLabel } from './case-card.js';
import { escapeText, mentionUser } from './mrkdwn.js';

/** The CSAT section of `/care-stats` (care/stats-csat.ts). */

const MAX_AGENTS = 15;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const rating = (average: number | null) => (average === null ? '–' : `${average.toFixed(1)}/5`);

/** CSAT: answers to the rating question in the period, their average, by platform and by agent. */
export function csatText(c: CsatFigures): string {
  const cur = c.overall.current;
  const prev = c.overall.previous;
  const before = prev.count ? ` (was ${rating(prev.average)} from ${prev.count})` : '';
  const asked = cur.asked ? ` · ${cur.asked} asked` : '';
  return [
    `*CSAT* ${rating(cur.average)} from ${plural(cur.count, 'answer')}${before}${asked}`,
    ...(c.byPlatform.length
      ? [
          `By platform: ${c.byPlatform.map((p) => `${escapeText(platformLabel(p.key, p.key))} ${rating(p.average)} (${p.count})`).join(' · ')}`,
        ]
      : []),
    ...c.byAgent
      .slice(0, MAX_AGENTS)
      .map((a) => `• ${mentionUser(a.key)} ${rating(a.average)} from ${plural(a.count, 'answer')}`),
  ].join('\n');
}
