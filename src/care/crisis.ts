/**
 * The crisis watch's judgement, as pure functions of counts and texts: what volume is normal for a
 * platform at this hour of the week, whether the current window is a spike, and whether many new
 * cases share terms that are rarely seen. The job (jobs/crisis-watch.ts) feeds them from the
 * database and keeps the alerts; these functions decide.
 */

export interface SpikeSettings {
  /** A spike is at least this many times the usual count… */
  factor: number;
  /** …and at least this many cases in the window. */
  minCount: number;
}

export interface VolumeReading {
  /** Cases opened in the current window. */
  count: number;
  /** Cases opened in the same window of each past week that carebot already ran (newest first). */
  history: number[];
}

export interface SpikeJudgement {
  spike: boolean;
  /** The usual count of the window: the median of the past weeks (0 without history). */
  baseline: number;
  /** What the count must reach to be a spike. */
  threshold: number;
  /** Count against the usual one; `Infinity` when there usually are none. */
  ratio: number;
}

/** The median: one odd week (a past crisis, a holiday) does not move it. */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Is this window's count a spike against the same window of past weeks? */
export function judgeVolume(reading: VolumeReading, s: SpikeSettings): SpikeJudgement {
  const baseline = median(reading.history);
  const threshold = Math.max(s.minCount, Math.ceil(s.factor * baseline));
  return {
    spike: reading.count >= threshold,
    baseline,
    threshold,
    ratio: baseline > 0 ? reading.count / baseline : reading.count > 0 ? Number.POSITIVE_INFINITY : 0,
  };
}

export type AlertStep =
  /** Above the threshold and no alert open: alert now. */
  | 'alert'
  /** Still above: the open alert stays open (its last-above time moves). */
  | 'still'
  /** Calm for long enough: the all-clear. */
  | 'clear'
  | 'none';

/**
 * What the watch does with one reading, given the scope's open alert (if any): alert once when a
 * storm starts, keep quiet while it lasts, and give the all-clear only after it has stayed below
 * its threshold for `calmAfterMs`, so a storm that dips for one window is not announced twice.
 */
export function alertStep(
  open: { lastAboveAt: Date } | undefined,
  above: boolean,
  now: Date,
  calmAfterMs: number,
): AlertStep {
  if (above) return open ? 'still' : 'alert';
  if (open && now.getTime() - open.lastAboveAt.getTime() >= calmAfterMs) return 'clear';
  return 'none';
}

// Words that say nothing about what went wrong: function words and the vocabulary of every complaint.
const STOPWORDS = new Set(
  (
    'the and for are but not you your yours with this that these those have has had was were will would ' +
    'can could should what when where which who why how all any our ours out into from about just than ' +
    "then them they their there here its it’s it's i’m i'm im ive i’ve i've dont don’t don't doesnt " +
    "didnt cant can’t can't wont isnt aren’t been being also very really still again get got getting " +
    'some more most much many one two now today yesterday day days week time please help thanks thank ' +
    'hello hey anyone someone does did doing done make made even only over after before because since ' +
    'while why who whom she him her his hers mine myself yourself ourselves themselves let lets via too ' +
    'ago yet ever never always every other another same such own off per'
  ).split(/\s+/),
);

/** The distinct terms of a text that could name a problem: lowercase words of 3+ letters, no stopwords. */
export function termsOf(text: string): Set<string> {
  const terms = new Set<string>();
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’_-]*/gu)) {
    const word = match[0].replace(/['’_-]+$/, '');
    if (word.length < 3 || /^\d+$/.test(word) || STOPWORDS.has(word)) continue;
    terms.add(word);
  }
  return terms;
}

export interface ClusterSettings {
  minCases: number;
  minTerms: number;
  /** A term is unusual when its share of the window's cases is this many times its usual share. */
  lift: number;
}

/** How often each term was seen among the usual cases (one case counts a term once). */
export interface TermHistory {
  cases: number;
  termCases: Map<string, number>;
}

export interface Cluster {
  /** The shared unusual terms, most frequent first. */
  terms: string[];
  caseIds: number[];
  /** Each term's share of the window's cases against its usual share. */
  lift: number;
}

/**
 * Pseudo-cases that temper the usual share of a term never seen before: with little history, a term
 * must be common in the window to count as unusual; with a lot, rare terms stand out quickly.
 */
const PRIOR_CASES = 20;

export function termHistory(texts: string[]): TermHistory {
  const termCases = new Map<string, number>();
  for (const text of texts) {
    for (const term of termsOf(text)) termCases.set(term, (termCases.get(term) ?? 0) + 1);
  }
  return { cases: texts.length, termCases };
}

/**
 * Groups of new cases that share terms rarely seen before ("checkout", "declined"): the terms are
 * those in at least `minCases` of the window's cases whose share is `lift` times their usual share;
 * terms that mostly occur in the same cases form one cluster, and its cases are those with at least
 * `minTerms` of its terms.
 */
export function findClusters(
  current: Array<{ caseId: number; text: string }>,
  usual: TermHistory,
  s: ClusterSettings,
): Cluster[] {
  if (current.length < s.minCases) return [];
  const casesOf = new Map<string, Set<number>>();
  for (const c of current) {
    for (const term of termsOf(c.text)) {
      const set = casesOf.get(term) ?? new Set<number>();
      set.add(c.caseId);
      casesOf.set(term, set);
    }
  }
  const lifts = new Map<string, number>();
  for (const [term, ids] of casesOf) {
    if (ids.size < s.minCases) continue;
    const share = ids.size / current.length;
    const usualShare = ((usual.termCases.get(term) ?? 0) + 1) / (usual.cases + PRIOR_CASES);
    const lift = share / usualShare;
    if (lift >= s.lift) lifts.set(term, lift);
  }
  const candidates = [...lifts.keys()].sort(
    (a, b) => (casesOf.get(b)?.size ?? 0) - (casesOf.get(a)?.size ?? 0) || a.localeCompare(b),
  );
  const used = new Set<string>();
  const clusters: Cluster[] = [];
  for (const seed of candidates) {
    if (used.has(seed)) continue;
    const seedCases = casesOf.get(seed) ?? new Set<number>();
    const terms = [seed];
    for (const other of candidates) {
      if (other === seed || used.has(other)) continue;
      const otherCases = casesOf.get(other) ?? new Set<number>();
      let shared = 0;
      for (const id of otherCases) if (seedCases.has(id)) shared++;
      if (shared * 2 >= Math.min(otherCases.size, seedCases.size)) terms.push(other);
    }
    if (terms.length < s.minTerms) continue;
    for (const t of terms) used.add(t);
    const counts = new Map<number, number>();
    for (const t of terms) for (const id of casesOf.get(t) ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
    const caseIds = [...counts]
      .filter(([, n]) => n >= s.minTerms)
      .map(([id]) => id)
      .sort((a, b) => a - b);
    if (caseIds.length < s.minCases) continue;
    clusters.push({ terms, caseIds, lift: Math.min(...terms.map((t) => lifts.get(t) ?? 0)) });
  }
  return clusters;
}

/** The terms most over-represented among the window's cases, for an alert's "top terms". */
export function topTerms(current: string[], usual: TermHistory, limit = 5): string[] {
  const counts = termHistory(current);
  return [...counts.termCases]
    .filter(([, n]) => n >= 2)
    .map(([term, n]) => {
      const usualShare = ((usual.termCases.get(term) ?? 0) + 1) / (usual.cases + PRIOR_CASES);
      return { term, n, score: n / current.length / usualShare };
    })
    .sort((a, b) => b.score - a.score || b.n - a.n || a.term.localeCompare(b.term))
    .slice(0, limit)
    .map((t) => t.term);
}

/** "42 in 15 min, usually 6 (7×)": the rate against normal, as an alert says it. */
export function describeRate(count: number, baseline: number): string {
  if (baseline <= 0) return `${count}, usually none`;
  const ratio = count / baseline;
  return `${count}, usually ${Number.isInteger(baseline) ? baseline : baseline.toFixed(1)} (${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1).replace(/\.0$/, '')}×)`;
}
