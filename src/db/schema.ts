// Longer than 400 lines on purpose: drizzle's one-schema-file style, so the file reads like the database.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A case is one customer's conversation that the care team owns until it is resolved.
 * At most one case per conversation is open at a time (the partial unique index), which is what
 * lets concurrent webhooks for the same conversation join one case instead of racing to open two.
 */
export const cases = pgTable(
  'cases',
  {
    id: serial('id').primaryKey(),
    /** Where the conversation lives: platform plus account or named source, e.g. `webhook:forum`. */
    sourceKey: text('source_key').notNull(),
    platform: text('platform').notNull(),
    conversationId: text('conversation_id').notNull(),
    status: text('status', { enum: ['open', 'resolved'] })
      .notNull()
      .default('open'),
    ownerId: text('owner_id'),
    /** The Slack channel the case is routed to. */
    channelId: text('channel_id').notNull(),
    openedAt: tz('opened_at').notNull(),
    lastCustomerMessageAt: tz('last_customer_message_at').notNull(),
    resolvedAt: tz('resolved_at'),
    /** When an agent's reply last reached the customer. */
    lastReplyAt: tz('last_reply_at'),
    /** The earlier case of the same conversation, when this one was opened after it was long resolved. */
    previousCaseId: integer('previous_case_id'),
    /** Who opened it: the author of its first message (care/customers.ts); null for cases opened before #22. */
    customerId: integer('customer_id'),
    // SLA clocks (care/sla.ts). A due time is set while its clock runs; `*_at` records when it stopped.
    firstResponseDueAt: tz('first_response_due_at'),
    firstResponseAt: tz('first_response_at'),
    nextResponseStartedAt: tz('next_response_started_at'),
    nextResponseDueAt: tz('next_response_due_at'),
    resolutionDueAt: tz('resolution_due_at'),
    /** Business time left on the resolution clock when the case was resolved (a reopen continues it). */
    resolutionRemainingMs: bigint('resolution_remaining_ms', { mode: 'number' }),
    /** Since when the case waits on the customer (care/waiting.ts): its SLA clocks are paused. */
    waitingSince: tz('waiting_since'),
    /** When the owner was reminded that the customer has not answered (once per wait). */
    waitingNudgedAt: tz('waiting_nudged_at'),
    /** `ok`, `at_risk` (a mention went out) or `breached`; what the card's colour shows. */
    slaState: text('sla_state', { enum: ['ok', 'at_risk', 'breached'] })
      .notNull()
      .default('ok'),
    /** When the SLA sweep must look at this case next; the sweep reads only cases that are due. */
    slaNextCheckAt: tz('sla_next_check_at'),
    /** The SLA sweep that has the case leased (its next check pushed a minute ahead) while it works. */
    slaLeaseToken: text('sla_lease_token'),
    /** P1 (most urgent) to P3, from reach, wording and escalation rules; agents can change it. */
    priority: text('priority', { enum: ['P1', 'P2', 'P3'] })
      .notNull()
      .default('P3'),
    /** Why the case has its priority and which escalation rules it hit, for the card and the log. */
    priorityReasons: jsonb('priority_reasons').$type<string[]>().notNull().default([]),
    /** `private` once an agent moved a public conversation to direct messages. */
    replyMode: text('reply_mode', { enum: ['public', 'private'] })
      .notNull()
      .default('public'),
    /** Bumped whenever the card's content changes; the Slack sync brings the card up to it. */
    cardVersion: integer('card_version').notNull().default(1),
    cardPostedVersion: integer('card_posted_version').notNull().default(0),
    /** While set in the future, one worker is talking to Slack about this case (or backing off). */
    slackLeaseUntil: tz('slack_lease_until'),
    /** Whose Slack lease it is: every update that ends or extends the lease names it. */
    slackLeaseToken: text('slack_lease_token'),
    slackAttempts: integer('slack_attempts').notNull().default(0),
    slackLastError: text('slack_last_error'),
    /**
     * When carebot handed the case to someone by itself (assignment.mode round_robin). Set once and
     * never cleared: a case someone unclaimed after that stays with the team, never auto-assigned again.
     */
    autoAssignedAt: tz('auto_assigned_at'),
    createdAt: tz('created_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('cases_open_conversation_key')
      .on(t.sourceKey, t.conversationId)
      .where(sql`${t.status} <> 'resolved'`),
    // A conversation's newest case whatever its status (a new message reopens or links to it).
    index('cases_conversation_idx').on(t.sourceKey, t.conversationId, t.id),
    index('cases_card_pending_idx').on(t.id).where(sql`${t.cardPostedVersion} < ${t.cardVersion}`),
    index('cases_status_idx').on(t.status, t.openedAt),
    // For /care-stats over long periods (see care/stats.ts: its predicates repeat these verbatim).
    index('cases_opened_at_idx').on(t.openedAt),
    index('cases_resolved_at_idx').on(t.resolvedAt).where(sql`${t.status} = 'resolved'`),
    // The auto-resolve job reads only the cases that wait on their customer (jobs/auto-resolve.ts).
    index('cases_waiting_idx').on(t.waitingSince).where(sql`${t.waitingSince} is not null`),
    index('cases_sla_check_idx').on(t.slaNextCheckAt).where(sql`${t.slaNextCheckAt} is not null`),
    // /metrics counts open cases by priority and the unclaimed ones from this index alone (see care/gauges.ts).
    index('cases_open_idx').on(t.priority, t.ownerId).where(sql`${t.status} = 'open'`),
    // A customer's cases, newest first: the card's "earlier cases" line and the History modal.
    index('cases_customer_idx').on(t.customerId, t.id).where(sql`${t.customerId} is not null`),
  ],
);

/**
 * One author on one platform, as the care team knows them: a note, the VIP flag, and the person
 * they were linked to ("Same person as…"). `person_id` names the group's root customer (whose own
 * `person_id` is null); linked authors share the root, so history, note and VIP span the group.
 */
export const customers = pgTable(
  'customers',
  {
    id: serial('id').primaryKey(),
    platform: text('platform').notNull(),
    authorId: text('author_id').notNull(),
    personId: integer('person_id'),
    note: text('note'),
    vip: boolean('vip').notNull().default(false),
    createdAt: tz('created_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('customers_author_key').on(t.platform, t.authorId),
    index('customers_person_idx').on(t.personId).where(sql`${t.personId} is not null`),
  ],
);

/**
 * Every message of a case: what the customer wrote (inbound), what an agent sent (outbound) and
 * internal notes. An inbound message is unique by its source and the platform's id, so a
 * redelivered webhook or an overlapping poll is a no-op.
 */
export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind', { enum: ['inbound', 'outbound', 'note'] }).notNull(),
    sourceKey: text('source_key').notNull(),
    /** The platform's id of the message (inbound), or of the delivered reply (outbound). */
    externalId: text('external_id'),
    authorId: text('author_id').notNull(),
    authorName: text('author_name'),
    authorHandle: text('author_handle'),
    authorUrl: text('author_url'),
    /** The author's reach (followers) when the platform tells it. */
    authorFollowers: integer('author_followers'),
    /** What matters about the message on its platform (a review's stars, app version, device). */
    facts: jsonb('facts').$type<string[]>(),
    text: text('text').notNull(),
    url: text('url'),
    /** When the message was written, by the platform's clock. */
    sentAt: tz('sent_at').notNull(),
    createdAt: tz('created_at').notNull(),
    /** For agent messages: the Slack message they came from, which makes each one unique. */
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
  },
  (t) => [
    uniqueIndex('messages_inbound_key').on(t.sourceKey, t.externalId).where(sql`${t.kind} = 'inbound'`),
    uniqueIndex('messages_slack_key').on(t.slackChannel, t.slackTs).where(sql`${t.slackTs} is not null`),
    index('messages_case_idx').on(t.caseId, t.id),
    // Forgetting a customer finds every case of theirs by author (care/forget.ts).
    index('messages_inbound_author_idx').on(t.authorId).where(sql`${t.kind} = 'inbound'`),
  ],
);

/** The Slack thread of each case: the card is its parent message. */
export const slackThreads = pgTable(
  'slack_threads',
  {
    caseId: integer('case_id')
      .primaryKey()
      .references(() => cases.id),
    channelId: text('channel_id').notNull(),
    threadTs: text('thread_ts').notNull(),
    postedAt: tz('posted_at').notNull(),
  },
  (t) => [uniqueIndex('slack_threads_message_key').on(t.channelId, t.threadTs)],
);

/**
 * Messages carebot owes a case's Slack thread (a customer's follow-up, an escalation mention).
 * Rows are written in the same transaction as the change that needs them and posted in order by
 * the Slack sync job; `key` makes each one happen once.
 */
export const slackOutbox = pgTable(
  'slack_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    key: text('key').notNull(),
    kind: text('kind', {
      enum: [
        'customer_message',
        'escalation',
        'reply_sent',
        'reply_failed',
        'notice',
        'sla',
        'event',
        'redact',
        // A trainee's reply waiting for approval, with Approve / Edit / Reject (refId: its
        // `reply_awaiting_approval` event, which names the reply).
        'approval',
        // Render another row's message again and update it in place (refId: that outbox row).
        'refresh',
      ],
    }).notNull(),
    /** The row it is about: a message, reply, escalation, reminder, event, or (`redact`) outbox row. */
    refId: bigint('ref_id', { mode: 'number' }).notNull(),
    createdAt: tz('created_at').notNull(),
    postedTs: text('posted_ts'),
    postedAt: tz('posted_at'),
  },
  (t) => [
    uniqueIndex('slack_outbox_key').on(t.key),
    index('slack_outbox_pending_idx').on(t.caseId, t.id).where(sql`${t.postedTs} is null`),
  ],
);

/**
 * An agent's answer on its way to the customer. A reply is written once per Slack message (the
 * unique key on channel and ts makes Slack's redeliveries no-ops), waits out the undo window in
 * `pending`, and is delivered by the delivery job, which leases rows with `FOR UPDATE SKIP LOCKED`.
 *
 * held → (send anyway) → pending → sending → sent
 *                         ↘ cancelled          ↘ (transient) pending again, later
 *                                              ↘ failed → (retry) pending
 *
 * A trainee's reply (care/approval.ts) starts in `awaiting_approval`, which the delivery job never
 * takes: an approver moves it to `pending` (or `held`, when the tone check finds something in the
 * approved text) or to `rejected`, and `reviewed_by` says who.
 */
export const replies = pgTable(
  'replies',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    status: text('status', {
      enum: ['held', 'pending', 'sending', 'sent', 'failed', 'cancelled', 'awaiting_approval', 'rejected'],
    }).notNull(),
    /**
     * `answer`: an agent's reply. `csat`: the satisfaction question carebot sends by itself after a
     * private case is resolved (see csatRatings); it is not an agent's reply in the stats.
     */
    kind: text('kind', { enum: ['answer', 'csat'] })
      .notNull()
      .default('answer'),
    authorId: text('author_id').notNull(),
    text: text('text').notNull(),
    /** The Slack message the reply was written as (thread replies), or the modal it came from. */
    slackChannel: text('slack_channel').notNull(),
    slackTs: text('slack_ts').notNull(),
    /**
     * When the agent wrote it, as Slack orders messages (the message ts; the submit time for a
     * modal). A case's replies reach the customer in this order, however the events arrived.
     */
    position: numeric('position', { precision: 20, scale: 6 }).notNull(),
    /** The customer's message this answers (the latest one when the reply was queued). */
    inReplyTo: text('in_reply_to'),
    /** Tone-check findings the author chose to send anyway. */
    overridden: jsonb('overridden').$type<string[]>(),
    savedReplyId: integer('saved_reply_id'),
    sendAt: tz('send_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: tz('lease_until'),
    /** Whose lease it is: marking the reply sent, failed or due again needs this token. */
    leaseToken: text('lease_token'),
    /**
     * An attempt may have reached the platform without carebot hearing how it ended (a timeout, a
     * reset connection, a 5xx, a lease that ran out mid-send): the next attempt looks for the reply
     * on the platform before sending it again.
     */
    outcomeUnknown: boolean('outcome_unknown').notNull().default(false),
    lastError: text('last_error'),
    /** The platform's id and link of the delivered reply. */
    externalId: text('external_id'),
    externalUrl: text('external_url'),
    /** What the platform did besides sending, said in the thread ("Replaced the earlier response"). */
    deliveryNote: text('delivery_note'),
    sentAt: tz('sent_at'),
    /** How many times delivery ended in failure (keys the ⚠️ thread message of each failure). */
    failures: integer('failures').notNull().default(0),
    /** The approver who approved or rejected a trainee's reply; they may cancel it in its undo window. */
    reviewedBy: text('reviewed_by'),
    /** The incident statement batch the reply belongs to (one Cancel stops the whole batch). */
    batchId: bigint('batch_id', { mode: 'number' }),
    createdAt: tz('created_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('replies_slack_key').on(t.slackChannel, t.slackTs),
    index('replies_batch_idx').on(t.batchId).where(sql`${t.batchId} is not null`),
    index('replies_due_idx').on(t.sendAt).where(sql`${t.status} in ('pending', 'sending')`),
    index('replies_case_idx').on(t.caseId),
    index('replies_sent_at_idx').on(t.sentAt).where(sql`${t.status} = 'sent'`),
    // Trainee drafts waiting for approval: /care-stats counts them without reading every draft.
    index('replies_awaiting_approval_idx').on(t.authorId).where(sql`${t.status} = 'awaiting_approval'`),
  ],
);

/**
 * The satisfaction question of a case and the customer's answer. The case id is the key: a case
 * is asked once ever, whatever reopens, resolves or instances race (docs/features/csat.md).
 */
export const csatRatings = pgTable(
  'csat_ratings',
  {
    caseId: integer('case_id')
      .primaryKey()
      .references(() => cases.id),
    /** The question on its way, through the replies queue (exactly once, like every reply). */
    replyId: bigint('reply_id', { mode: 'number' }).notNull(),
    /** Who owned the case when it was resolved: the agent the rating counts for. */
    agentId: text('agent_id'),
    askedAt: tz('asked_at').notNull(),
    /** 1 (bad) to 5 (great); null until the customer answers. */
    score: integer('score'),
    answeredAt: tz('answered_at'),
    /** The customer's message that carried the answer. */
    answerMessageId: bigint('answer_message_id', { mode: 'number' }),
  },
  (t) => [index('csat_ratings_answered_idx').on(t.answeredAt).where(sql`${t.score} is not null`)],
);

/** Approved answers to common problems, with `{variables}` filled in when used. */
export const savedReplies = pgTable(
  'saved_replies',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    text: text('text').notNull(),
    uses: integer('uses').notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: tz('created_at').notNull(),
    updatedAt: tz('updated_at').notNull(),
    deletedAt: tz('deleted_at'),
  },
  (t) => [
    uniqueIndex('saved_replies_title_key').on(sql`lower(${t.title})`).where(sql`${t.deletedAt} is null`),
  ],
);

/**
 * Each SLA reminder stage of each clock cycle, once: the unique key is case, clock, cycle and
 * stage, so two sweeps or a restart never send a reminder twice. Stages skipped after downtime
 * are recorded as skipped, so only the latest due stage is sent.
 */
export const slaReminders = pgTable(
  'sla_reminders',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    key: text('key').notNull(),
    clock: text('clock').notNull(),
    stage: text('stage').notNull(),
    dueAt: tz('due_at').notNull(),
    /** `sent`, `late` (sent after downtime) or `skipped` (a later stage was due too). */
    outcome: text('outcome', { enum: ['sent', 'late', 'skipped'] }).notNull(),
    text: text('text').notNull(),
    createdAt: tz('created_at').notNull(),
  },
  (t) => [uniqueIndex('sla_reminders_key').on(t.key), index('sla_reminders_case_idx').on(t.caseId)],
);

/** Append-only log of who did what to a case, and when. */
export const caseEvents = pgTable(
  'case_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    type: text('type').notNull(),
    /** A Slack user id, `customer`, or `carebot`. */
    actor: text('actor').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    at: tz('at').notNull(),
  },
  (t) => [
    index('case_events_case_idx').on(t.caseId, t.at),
    index('case_events_type_at_idx').on(t.type, t.at),
    // /care-stats counts automatic resolutions from this index (care/stats-workflow.ts), not from
    // every resolution's row. Only the auto-resolve job's events go in it.
    index('case_events_auto_resolved_idx')
      .on(t.at)
      .where(sql`${t.type} = 'resolved' and ${t.data}->>'automatic' is not null`),
    index('case_events_next_response_idx')
      .on(t.at)
      .where(
        sql`(${t.type} = 'sla_started' and ${t.data}->'clocks' @> '["next_response"]'::jsonb) or (${t.type} = 'sla_stopped' and ${t.data}->>'clock' = 'next_response')`,
      ),
  ],
);

export const escalations = pgTable(
  'escalations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    teamKey: text('team_key').notNull(),
    note: text('note').notNull(),
    requestedBy: text('requested_by').notNull(),
    /** The Slack request that asked for it (the modal's view id), so a resubmission is a no-op. */
    requestKey: text('request_key'),
    createdAt: tz('created_at').notNull(),
    acknowledgedAt: tz('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    /** `normal` or `urgent`, chosen in the Escalate modal. */
    urgency: text('urgency', { enum: ['normal', 'urgent'] })
      .notNull()
      .default('normal'),
    /** The team's answer, shown to the owner in the thread. */
    answer: text('answer'),
    answeredAt: tz('answered_at'),
    answeredBy: text('answered_by'),
    /** When the team was last reminded to acknowledge. */
    ackRemindedAt: tz('ack_reminded_at'),
  },
  (t) => [
    index('escalations_case_idx').on(t.caseId),
    uniqueIndex('escalations_request_key').on(t.requestKey),
    index('escalations_created_at_idx').on(t.createdAt),
    // The escalation sweep and the App Home read only escalations still waiting on their team.
    index('escalations_waiting_idx').on(t.caseId).where(sql`${t.answeredAt} is null`),
  ],
);

/**
 * Each poller's state: how far it has read (so a restart neither misses nor repeats), when it
 * polls next, who is polling it now (a lease, so one instance polls at a time), and whether it is
 * paused because its credentials stopped working.
 */
export const sourceCursors = pgTable('source_cursors', {
  sourceKey: text('source_key').primaryKey(),
  cursor: text('cursor'),
  nextPollAt: tz('next_poll_at'),
  leaseUntil: tz('lease_until'),
  /** Whose lease it is: saving the cursor needs this token. */
  leaseToken: text('lease_token'),
  status: text('status', { enum: ['active', 'paused'] })
    .notNull()
    .default('active'),
  pausedReason: text('paused_reason'),
  updatedAt: tz('updated_at').notNull(),
});

/**
 * The round robin of automatic assignment, one row (`key` = `round_robin`): who was assigned last
 * (the next case goes to the next person after them, across restarts and instances), the lease of
 * the instance assigning now, and since when nobody has been available (the channel is told once
 * per such stretch).
 */
export const assignmentRotation = pgTable('assignment_rotation', {
  key: text('key').primaryKey(),
  lastUserId: text('last_user_id'),
  leaseUntil: tz('lease_until'),
  /** Whose lease it is: moving the rotation on needs this token. */
  leaseToken: text('lease_token'),
  nobodySince: tz('nobody_since'),
  updatedAt: tz('updated_at').notNull(),
});

/**
 * Messages for a channel rather than a case thread: a source whose credentials stopped working, and
 * working again. `key` makes each notice happen once, however many polls fail.
 */
export const slackNotices = pgTable(
  'slack_notices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull(),
    channelId: text('channel_id').notNull(),
    text: text('text').notNull(),
    /** Block Kit blocks; without them the text is posted as one mrkdwn section. */
    blocks: jsonb('blocks').$type<unknown[]>(),
    /** Post as a reply in the thread of the notice with this key (an incident's thread). */
    threadKey: text('thread_key'),
    /** Update the message of the notice with this key instead of posting a new one. */
    replacesKey: text('replaces_key'),
    createdAt: tz('created_at').notNull(),
    postedTs: text('posted_ts'),
    postedAt: tz('posted_at'),
    nextAttemptAt: tz('next_attempt_at'),
    /** Whose lease it is while a worker posts the notice. */
    leaseToken: text('lease_token'),
  },
  (t) => [
    uniqueIndex('slack_notices_key').on(t.key),
    index('slack_notices_pending_idx').on(t.id).where(sql`${t.postedTs} is null`),
  ],
);

/**
 * A spike or cluster the crisis watch flagged. At most one alert per scope is open at a time (the
 * partial unique index), so two instances or two rounds never alert twice for the same storm; it
 * stays open until the volume has been calm for `crisis.calm_after`, then the all-clear goes out.
 */
export const crisisAlerts = pgTable(
  'crisis_alerts',
  {
    id: serial('id').primaryKey(),
    kind: text('kind', { enum: ['spike', 'cluster'] }).notNull(),
    /** `spike:<platform>` or `cluster:<term>`. */
    scope: text('scope').notNull(),
    platform: text('platform'),
    openedAt: tz('opened_at').notNull(),
    /** The last round that still saw it above its threshold. */
    lastAboveAt: tz('last_above_at').notNull(),
    clearedAt: tz('cleared_at'),
    /** Cases in the window when flagged, and the usual count for that window. */
    count: integer('count').notNull(),
    baseline: doublePrecision('baseline').notNull(),
    peakCount: integer('peak_count').notNull(),
    terms: jsonb('terms').$type<string[]>().notNull().default([]),
    sampleCaseIds: jsonb('sample_case_ids').$type<number[]>().notNull().default([]),
    incidentId: integer('incident_id'),
  },
  (t) => [
    uniqueIndex('crisis_alerts_open_key').on(t.scope).where(sql`${t.clearedAt} is null`),
    index('crisis_alerts_opened_at_idx').on(t.openedAt),
  ],
);

/** Crisis mode: tighter SLA targets and a banner in the care channel, on until lifted. One at a time. */
export const crisisPeriods = pgTable(
  'crisis_periods',
  {
    id: serial('id').primaryKey(),
    startedAt: tz('started_at').notNull(),
    /** A Slack user id, or `carebot` when an alert turned it on. */
    startedBy: text('started_by').notNull(),
    reason: text('reason').notNull(),
    alertId: integer('alert_id'),
    liftedAt: tz('lifted_at'),
    liftedBy: text('lifted_by'),
  },
  (t) => [
    uniqueIndex('crisis_periods_active_key')
      .on(sql`(${t.liftedAt} is null)`)
      .where(sql`${t.liftedAt} is null`),
  ],
);

/**
 * An incident: one problem many customers write about, with a lead, an approved holding statement
 * (a saved reply) and a status, discussed in its own Slack thread.
 */
export const incidents = pgTable(
  'incidents',
  {
    id: serial('id').primaryKey(),
    title: text('title').notNull(),
    status: text('status', { enum: ['investigating', 'identified', 'monitoring', 'resolved'] })
      .notNull()
      .default('investigating'),
    leadId: text('lead_id').notNull(),
    /** The approved holding statement. */
    savedReplyId: integer('saved_reply_id'),
    /** New cases whose messages contain one of these are linked automatically. */
    keywords: jsonb('keywords').$type<string[]>().notNull().default([]),
    channelId: text('channel_id').notNull(),
    alertId: integer('alert_id'),
    /** What asked for it (the alert's button, a command), so a double click opens one incident. */
    requestKey: text('request_key').notNull(),
    createdBy: text('created_by').notNull(),
    openedAt: tz('opened_at').notNull(),
    resolvedAt: tz('resolved_at'),
    resolvedBy: text('resolved_by'),
    /** Bumped on each change; the incident message in Slack is brought up to it. */
    version: integer('version').notNull().default(1),
    updatedAt: tz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('incidents_request_key').on(t.requestKey),
    index('incidents_opened_at_idx').on(t.openedAt),
  ],
);

/** Which cases belong to which incident; a case belongs to one incident at most. */
export const incidentCases = pgTable(
  'incident_cases',
  {
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id),
    caseId: integer('case_id')
      .notNull()
      .references(() => cases.id),
    /** A Slack user id, or `carebot` for a keyword match. */
    linkedBy: text('linked_by').notNull(),
    linkedAt: tz('linked_at').notNull(),
  },
  (t) => [
    uniqueIndex('incident_cases_case_key').on(t.caseId),
    index('incident_cases_incident_idx').on(t.incidentId),
  ],
);

/**
 * What was done to an incident and by whom (a Slack user id, or `carebot`): opened, lead changed,
 * statement sent, resolved. The audit trail of who spoke for the brand during an incident.
 */
export const incidentEvents = pgTable(
  'incident_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    at: tz('at').notNull(),
  },
  (t) => [index('incident_events_incident_idx').on(t.incidentId, t.at)],
);

/** One send of an incident's statement to its linked cases: one reply per case, one undo window. */
export const statementBatches = pgTable(
  'statement_batches',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id),
    authorId: text('author_id').notNull(),
    savedReplyId: integer('saved_reply_id'),
    text: text('text').notNull(),
    /** The modal submission that asked for it, so a resubmission sends nothing twice. */
    requestKey: text('request_key').notNull(),
    /** When the undo window of the batch ends. */
    sendAt: tz('send_at').notNull(),
    queued: integer('queued').notNull().default(0),
    /** Cases left out, with why (held by the tone check, resolved meanwhile…). */
    skipped: jsonb('skipped').$type<Array<{ caseId: number; reason: string }>>().notNull().default([]),
    cancelledAt: tz('cancelled_at'),
    cancelledBy: text('cancelled_by'),
    createdAt: tz('created_at').notNull(),
  },
  (t) => [uniqueIndex('statement_batches_request_key').on(t.requestKey)],
);

export type CaseRow = typeof cases.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type CustomerRow = typeof customers.$inferSelect;
export type EscalationRow = typeof escalations.$inferSelect;
export type ReplyRow = typeof replies.$inferSelect;
export type SavedReplyRow = typeof savedReplies.$inferSelect;
export type CrisisAlertRow = typeof crisisAlerts.$inferSelect;
export type CrisisPeriodRow = typeof crisisPeriods.$inferSelect;
export type IncidentRow = typeof incidents.$inferSelect;
export type IncidentEventRow = typeof incidentEvents.$inferSelect;
export type StatementBatchRow = typeof statementBatches.$inferSelect;
