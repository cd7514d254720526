import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type Database, queryRows } from '../db/client.js';
import { type CaseRow, cases, customers } from '../db/schema.js';
import { type Tx, ts } from '../db/tx.js';
import { announce, getCase } from './case-store.js';
import type { Clock } from './clock.js';
import { platformInfo } from './platforms.js';
import type { Priority } from './priority.js';

/**
 * Knowing the customer (docs/features/customers.md): each author on each platform is a customer
 * row, made when their first case opens; a case names its customer (`cases.customer_id`), so a
 * customer's cases are one index range. Authors linked as the same person share a root customer
 * (`person_id`); history, note and VIP read the whole group. Notes and the VIP flag are stored on
 * the author they were set on and shown for the group.
 */

/**
 * Where an author id means one person: the platform, or for a platform whose sources are separate
 * sites (the generic webhook: `webhook:forum`, `webhook:shop`) the source.
 */
export function customerPlatform(msg: { platform: string; sourceKey: string }): string {
  return platformInfo(msg.platform).namedBySource ? msg.sourceKey : msg.platform;
}

/** Longest customer note, in characters; the modal refuses longer ones. */
export const MAX_NOTE_LENGTH = 500;

/** The group of customers linked to `customerId` (itself included), as a subquery of ids. */
export function personGroup(customerId: number | ReturnType<typeof sql>) {
  const root = sql`(select coalesce(r.person_id, r.id) from ${customers} r where r.id = ${customerId})`;
  return sql`(select ${root} union select g.id from ${customers} g where g.person_id = ${root})`;
}

/**
 * The customer row of an author, made if new (and locked for the rest of the transaction).
 * Returns whether the person (any linked author) is VIP.
 */
export async function ensureCustomer(
  tx: Tx,
  author: { platform: string; authorId: string },
  now: Date,
): Promise<{ id: number; vip: boolean }> {
  const [row] = await queryRows<{ id: number }>(
    tx,
    sql`insert into ${customers} (platform, author_id, created_at, updated_at)
        values (${author.platform}, ${author.authorId}, ${ts(now)}, ${ts(now)})
        on conflict (platform, author_id) do update set platform = excluded.platform
        returning id`,
  );
  if (!row) throw new Error('customer upsert returned no row');
  const id = Number(row.id);
  return { id, vip: await personIsVip(tx, id) };
}

export async function personIsVip(db: Database | Tx, customerId: number): Promise<boolean> {
  const [row] = await queryRows<{ vip: boolean }>(
    db,
    sql`select exists (select 1 from ${customers} where id in ${personGroup(customerId)} and vip) as vip`,
  );
  return Boolean(row?.vip);
}

/** One step more urgent: P3 → P2 → P1 (P1 stays). */
export function raisedOneStep(p: Priority): Priority {
  return p === 'P3' ? 'P2' : 'P1';
}

export const VIP_REASON = 'VIP customer';

export interface EarlierCases {
  count: number;
  /** The newest of them: when it was opened and how it stands. */
  lastOpenedAt: Date;
  lastStatus: CaseRow['status'];
}

/** What a card says about its customer. */
export interface CustomerSummary {
  customerId: number;
  vip: boolean;
  /** The notes of the person's authors (usually one). */
  notes: string[];
  /** Other authors linked to this one. */
  linked: number;
  earlier: EarlierCases | undefined;
}

/** Counting stops here: the card says "1000+ earlier cases" rather than count a bot's history. */
export const COUNT_CAP = 1000;

/**
 * The newest `limit` cases of each of these customers matching `where` (on alias `c`): one
 * backward range of `cases_customer_idx` per customer, however many cases each has; the planner
 * is not left to choose a scan of the whole table for a customer with a big share of it.
 */
function newestCases(customerIds: number[] | SQL, where: SQL, limit: number): SQL {
  const ids = Array.isArray(customerIds)
    ? sql`array[${sql.join(
        customerIds.map((id) => sql`${id}::integer`),
        sql`, `,
      )}]`
    : customerIds;
  return sql`(select c.* from unnest(${ids}) as who(id)
    cross join lateral (
      select c.* from ${cases} c where c.customer_id = who.id and ${where}
      order by c.id desc limit ${limit}
    ) c)`;
}

/** How many cases of these customers match `where`, up to COUNT_CAP. */
const countOf = (customerIds: number[] | SQL, where: SQL) =>
  sql`(select count(*)::int from (select 1 from ${newestCases(customerIds, where, COUNT_CAP)} c limit ${COUNT_CAP}) s)`;

async function countCases(db: Database | Tx, customerIds: number[], where: SQL): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select ${countOf(customerIds, where)} as n`);
  return Number(row?.n ?? 0);
}

/**
 * The card's customer facts, in two index reads: the person's customers (primary key and the
 * person index) and their cases before this one (a backward range of `cases_customer_idx`).
 */
export async function customerSummary(db: Database | Tx, c: CaseRow): Promise<CustomerSummary | undefined> {
  if (c.customerId === null) return undefined;
  // One statement: a card is drawn on every change of its case.
  const ids = sql`(select array_agg(g.id) from grp g)`;
  const before = sql`c.id < ${c.id}`;
  const [row] = await queryRows<{
    grp: Array<{ id: number; note: string | null; vip: boolean }> | string | null;
    opened_at: Date | string | null;
    status: CaseRow['status'] | null;
    n: number;
  }>(
    db,
    sql`with grp as materialized (
          select id, note, vip from ${customers} where id in ${personGroup(c.customerId)}
        ),
        last as (select c.opened_at, c.status from ${newestCases(ids, before, 1)} c order by c.id desc limit 1)
        select (select json_agg(json_build_object('id', g.id, 'note', g.note, 'vip', g.vip) order by g.id) from grp g) as grp,
          (select opened_at from last) as opened_at, (select status from last) as status,
          case when exists (select 1 from last) then ${countOf(ids, before)} else 0 end as n`,
  );
  const group = (typeof row?.grp === 'string' ? JSON.parse(row.grp) : row?.grp) as Array<{
    id: number;
    note: string | null;
    vip: boolean;
  }> | null;
  if (!row || !group?.length) return undefined;
  return {
    customerId: c.customerId,
    vip: group.some((g) => g.vip),
    notes: group.map((g) => g.note ?? '').filter((n) => n.trim() !== ''),
    linked: group.length - 1,
    earlier:
      row.opened_at !== null && row.status !== null
        ? { count: Number(row.n), lastOpenedAt: new Date(row.opened_at), lastStatus: row.status }
        : undefined,
  };
}

export interface HistoryEntry {
  caseId: number;
  platform: string;
  sourceKey: string;
  status: CaseRow['status'];
  openedAt: Date;
  resolvedAt: Date | null;
  ownerId: string | null;
  /** The first words of the case's first customer message. */
  firstWords: string;
  thread: { channelId: string; threadTs: string } | undefined;
}

/**
 * The person's other cases, newest first, at most `limit`, and how many there are in all. The
 * first words come from each case's first inbound message (`messages_case_idx`).
 */
export async function caseHistory(
  db: Database,
  caseId: number,
  limit: number,
): Promise<{ entries: HistoryEntry[]; total: number } | undefined> {
  const c = await getCase(db, caseId);
  if (!c) return undefined;
  if (c.customerId === null) return { entries: [], total: 0 };
  const group = await db
    .select({ id: customers.id })
    .from(customers)
    .where(sql`${customers.id} in ${personGroup(c.customerId)}`);
  const ids = group.map((g) => g.id);
  if (!ids.length) return { entries: [], total: 0 };
  const others = sql`c.id <> ${c.id}`;
  const rows = await queryRows<{
    id: number;
    platform: string;
    source_key: string;
    status: CaseRow['status'];
    opened_at: Date | string;
    resolved_at: Date | string | null;
    owner_id: string | null;
    first_words: string | null;
    channel_id: string | null;
    thread_ts: string | null;
  }>(
    db,
    sql`select c.id, c.platform, c.source_key, c.status, c.opened_at, c.resolved_at, c.owner_id,
          left(m.text, 200) as first_words, t.channel_id, t.thread_ts
        from (select * from ${newestCases(ids, others, limit)} c order by c.id desc limit ${limit}) c
        left join lateral (
          select text from messages where case_id = c.id and kind = 'inbound' order by id limit 1
        ) m on true
        left join slack_threads t on t.case_id = c.id
        order by c.id desc`,
  );
  const total = rows.length < limit ? rows.length : await countCases(db, ids, others);
  return {
    total,
    entries: rows.map((r) => ({
      caseId: Number(r.id),
      platform: r.platform,
      sourceKey: r.source_key,
      status: r.status,
      openedAt: new Date(r.opened_at),
      resolvedAt: r.resolved_at === null ? null : new Date(r.resolved_at),
      ownerId: r.owner_id,
      firstWords: r.first_words ?? '',
      thread: r.channel_id && r.thread_ts ? { channelId: r.channel_id, threadTs: r.thread_ts } : undefined,
    })),
  };
}

/** An author of the person's group, named by their latest message. */
export interface LinkedAuthor {
  customerId: number;
  platform: string;
  authorName: string | null;
  authorHandle: string | null;
  authorId: string;
}

/** The other authors linked to a case's customer, for the "Same person as…" modal. */
export async function linkedAuthors(db: Database | Tx, caseId: number): Promise<LinkedAuthor[]> {
  const c = await getCase(db, caseId);
  if (!c?.customerId) return [];
  const rows = await queryRows<{
    id: number;
    platform: string;
    author_id: string;
    author_name: string | null;
    author_handle: string | null;
  }>(
    db,
    sql`select g.id, g.platform, g.author_id, n.author_name, n.author_handle
        from customers g
        left join lateral (
          select m.author_name, m.author_handle from cases k
          join messages m on m.case_id = k.id and m.kind = 'inbound' and m.author_id = g.author_id
          where k.customer_id = g.id order by k.id desc, m.id desc limit 1
        ) n on true
        where g.id in ${personGroup(c.customerId)} and g.id <> ${c.customerId}
        order by g.id`,
  );
  return rows.map((r) => ({
    customerId: Number(r.id),
    platform: r.platform,
    authorId: r.author_id,
    authorName: r.author_name,
    authorHandle: r.author_handle,
  }));
}

export type LinkResult =
  | { kind: 'linked'; otherCaseId: number; otherPlatform: string; otherSourceKey: string }
  | { kind: 'not_found' }
  | { kind: 'other_not_found' }
  | { kind: 'no_customer' }
  | { kind: 'same_author' }
  | { kind: 'already_linked' };

/**
 * "Same person as…": links the customer of `caseId` with the customer of `otherCaseId` (the
 * other group joins this one's root). Both groups are locked, in id order, for the change; the
 * thread of `caseId` is told through `slackText`.
 */
export async function linkSamePerson(
  db: Database,
  clock: Clock,
  input: { caseId: number; otherCaseId: number; actor: string },
  slackText: (r: { otherCaseId: number; otherPlatform: string; otherSourceKey: string }) => string,
): Promise<LinkResult> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const here = await getCase(tx, input.caseId);
    if (!here) return { kind: 'not_found' };
    const there = await getCase(tx, input.otherCaseId);
    if (!there) return { kind: 'other_not_found' };
    if (here.customerId === null || there.customerId === null) return { kind: 'no_customer' };
    if (here.customerId === there.customerId) return { kind: 'same_author' };
    const locked = await lockGroups(tx, [here.customerId, there.customerId]);
    const root = (id: number) => {
      const row = locked.find((r) => r.id === id);
      return row?.personId ?? id;
    };
    const [mine, theirs] = [root(here.customerId), root(there.customerId)];
    if (mine === theirs) return { kind: 'already_linked' };
    await tx
      .update(customers)
      .set({ personId: mine, updatedAt: now })
      .where(sql`${customers.id} = ${theirs} or ${customers.personId} = ${theirs}`);
    await rerenderCards(tx, here.customerId, here.id);
    await announce(tx, {
      caseId: here.id,
      type: 'customer_linked',
      actor: input.actor,
      at: now,
      data: { otherCaseId: there.id, customerId: here.customerId, otherCustomerId: there.customerId },
      slackText: slackText({
        otherCaseId: there.id,
        otherPlatform: there.platform,
        otherSourceKey: there.sourceKey,
      }),
    });
    return {
      kind: 'linked',
      otherCaseId: there.id,
      otherPlatform: there.platform,
      otherSourceKey: there.sourceKey,
    };
  });
}

/**
 * Undoes "Same person as…" for the given authors of a case's person: each leaves the group and
 * is their own person again. A root that leaves hands the group to its oldest remaining member.
 */
export async function unlinkAuthors(
  db: Database,
  clock: Clock,
  input: { caseId: number; customerIds: number[]; actor: string },
  slackText: (unlinked: LinkedAuthor[]) => string,
): Promise<{ kind: 'unlinked'; count: number } | { kind: 'not_found' } | { kind: 'not_linked' }> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const here = await getCase(tx, input.caseId);
    if (!here) return { kind: 'not_found' };
    if (here.customerId === null) return { kind: 'not_linked' };
    await lockGroups(tx, [here.customerId]);
    const authors = (await linkedAuthors(tx, here.id)).filter((a) =>
      input.customerIds.includes(a.customerId),
    );
    if (!authors.length) return { kind: 'not_linked' };
    for (const a of authors) await leaveGroup(tx, a.customerId, now);
    await rerenderCards(tx, here.customerId, here.id);
    for (const a of authors) await rerenderCards(tx, a.customerId);
    await announce(tx, {
      caseId: here.id,
      type: 'customer_unlinked',
      actor: input.actor,
      at: now,
      data: { customerIds: authors.map((a) => a.customerId) },
      slackText: slackText(authors),
    });
    return { kind: 'unlinked', count: authors.length };
  });
}

/** Takes one customer out of its group (re-rooting the group if it was the root). */
async function leaveGroup(tx: Tx, customerId: number, now: Date): Promise<void> {
  const [me] = await tx.select().from(customers).where(eq(customers.id, customerId));
  if (!me) return;
  if (me.personId !== null) {
    await tx.update(customers).set({ personId: null, updatedAt: now }).where(eq(customers.id, customerId));
    return;
  }
  const members = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(eq(customers.personId, customerId))
    .orderBy(customers.id);
  const [heir, ...rest] = members;
  if (!heir) return;
  await tx.update(customers).set({ personId: null, updatedAt: now }).where(eq(customers.id, heir.id));
  if (rest.length) {
    await tx
      .update(customers)
      .set({ personId: heir.id, updatedAt: now })
      .where(
        inArray(
          customers.id,
          rest.map((r) => r.id),
        ),
      );
  }
}

/** Locks the groups of these customers (all their rows, in id order) for the transaction. */
async function lockGroups(tx: Tx, customerIds: number[]) {
  const union = sql.join(
    customerIds.map((id) => personGroup(id)),
    sql` union `,
  );
  return tx
    .select({ id: customers.id, personId: customers.personId })
    .from(customers)
    .where(sql`${customers.id} in (${union})`)
    .orderBy(customers.id)
    .for('update');
}

/** The person's open cards (and the card where the change was made) are drawn again. */
async function rerenderCards(tx: Tx, customerId: number, caseId?: number): Promise<void> {
  await tx.execute(
    sql`update ${cases} set card_version = card_version + 1
        where customer_id in ${personGroup(customerId)}
          and (status = 'open' ${caseId === undefined ? sql`` : sql`or id = ${caseId}`})`,
  );
}

export type ProfileResult =
  | { kind: 'saved'; noteChanged: boolean; vipChanged: boolean }
  | { kind: 'not_found' }
  | { kind: 'no_customer' }
  | { kind: 'too_long'; length: number };

/** What the modal shows to edit: the note and flag of the case's own author. */
export async function customerProfile(
  db: Database,
  caseId: number,
): Promise<{ note: string; vip: boolean; linked: number } | undefined> {
  const c = await getCase(db, caseId);
  if (!c?.customerId) return undefined;
  const [row] = await db.select().from(customers).where(eq(customers.id, c.customerId));
  if (!row) return undefined;
  const group = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from ${customers} where id in ${personGroup(c.customerId)}`,
  );
  return { note: row.note ?? '', vip: row.vip, linked: Number(group[0]?.n ?? 1) - 1 };
}

/**
 * Sets the note and VIP flag of a case's customer (the case's author). Nothing is written when
 * the note is too long. The thread hears of each change; the person's open cards are redrawn.
 */
export async function setCustomerProfile(
  db: Database,
  clock: Clock,
  input: { caseId: number; note: string; vip: boolean; actor: string },
  slackText: (change: { note?: string; vip?: boolean }) => string,
): Promise<ProfileResult> {
  const note = input.note.trim();
  const length = Array.from(note).length;
  if (length > MAX_NOTE_LENGTH) return { kind: 'too_long', length };
  const now = clock.now();
  return db.transaction(async (tx) => {
    const c = await getCase(tx, input.caseId);
    if (!c) return { kind: 'not_found' };
    if (c.customerId === null) return { kind: 'no_customer' };
    const [before] = await tx.select().from(customers).where(eq(customers.id, c.customerId)).for('update');
    if (!before) return { kind: 'no_customer' };
    const noteChanged = (before.note ?? '') !== note;
    const vipChanged = before.vip !== input.vip;
    if (!noteChanged && !vipChanged) return { kind: 'saved', noteChanged, vipChanged };
    await tx
      .update(customers)
      .set({ note: note || null, vip: input.vip, updatedAt: now })
      .where(eq(customers.id, c.customerId));
    await rerenderCards(tx, c.customerId, c.id);
    const change = { ...(noteChanged ? { note } : {}), ...(vipChanged ? { vip: input.vip } : {}) };
    await announce(tx, {
      caseId: c.id,
      type: 'customer_note_set',
      actor: input.actor,
      at: now,
      data: change,
      slackText: slackText(change),
    });
    return { kind: 'saved', noteChanged, vipChanged };
  });
}

/**
 * Forgets these customers: their ids, notes, flags and links go. The rows stay, pointing at
 * nothing, so the erased cases keep a customer of their own and a new message from the same
 * author starts a new customer with no history.
 */
export async function forgetCustomers(tx: Tx, customerIds: number[], now: Date): Promise<void> {
  if (!customerIds.length) return;
  await tx
    .update(customers)
    .set({
      authorId: sql`'removed:' || ${customers.id}`,
      note: null,
      vip: false,
      personId: null,
      updatedAt: now,
    })
    .where(inArray(customers.id, customerIds));
  // Anyone else still pointing at a forgotten root keeps their own link no more.
  await tx
    .update(customers)
    .set({ personId: null, updatedAt: now })
    .where(and(inArray(customers.personId, customerIds)));
}
