import { type SQL, sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import { type Database, queryRows } from '../db/client.js';
import { configuredSourceKeys, platformKeys } from './platforms.js';

// Which cases `/care-stats` covers (a platform, a named source, an agent), and its filter in SQL.

/** Which cases the figures cover; every part is optional. */
export interface StatsFilter {
  platform?: string | undefined;
  /** Source keys (`webhook:forum`, `x:123…`) of a named source. */
  sourceKeys?: string[] | undefined;
  /** A Slack user id: cases they own, replies they sent. */
  agentId?: string | undefined;
}

/** `and …` for the cases of the filter (alias `c`); empty when there is no filter. */
export function caseFilter(f: StatsFilter): SQL {
  const parts: SQL[] = [];
  if (f.platform) parts.push(sql`c.platform = ${f.platform}`);
  if (f.sourceKeys)
    parts.push(
      sql`c.source_key in (${sql.join(
        f.sourceKeys.map((k) => sql`${k}`),
        sql`, `,
      )})`,
    );
  if (f.agentId) parts.push(sql`c.owner_id = ${f.agentId}`);
  return parts.length ? sql` and ${sql.join(parts, sql` and `)}` : sql``;
}

export const filtered = (f: StatsFilter) => Boolean(f.platform || f.sourceKeys || f.agentId);

export const joinCases = (f: StatsFilter, on: SQL) =>
  filtered(f) ? sql` join cases c on c.id = ${on}` : sql``;

/**
 * The source keys a name given to `/care-stats` stands for: configured accounts and feeds by
 * their name, or any source with cases whose key is `<platform>:<name>` (webhook sources are named
 * by whoever posts to them). Undefined when nothing goes by that name.
 */
export async function sourceKeysNamed(
  db: Database,
  config: Pick<Config, 'sources'>,
  name: string,
): Promise<string[] | undefined> {
  const lower = name.toLowerCase();
  const configured = configuredSourceKeys(config.sources, lower);
  const candidates = [
    ...new Set([
      ...configured,
      ...(name.includes(':') ? [name] : platformKeys().map((pf) => `${pf}:${name}`)),
    ]),
  ];
  // The inbound-message key index answers "does any message come from this source" at once.
  const found = await queryRows<{ key: string }>(
    db,
    sql`select k as key from (values ${sql.join(
      candidates.map((k) => sql`(${k}::text)`),
      sql`, `,
    )}) as v(k)
        where exists (select 1 from messages m where m.kind = 'inbound' and m.source_key = v.k)`,
  );
  const keys = [...new Set([...configured, ...found.map((r) => String(r.key))])];
  return keys.length ? keys : undefined;
}
