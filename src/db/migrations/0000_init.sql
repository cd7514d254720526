CREATE TABLE "case_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" integer NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" serial PRIMARY KEY NOT NULL,
	"source_key" text NOT NULL,
	"platform" text NOT NULL,
	"conversation_id" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"owner_id" text,
	"channel_id" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"last_customer_message_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"card_version" integer DEFAULT 1 NOT NULL,
	"card_posted_version" integer DEFAULT 0 NOT NULL,
	"slack_lease_until" timestamp with time zone,
	"slack_attempts" integer DEFAULT 0 NOT NULL,
	"slack_last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "escalations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" integer NOT NULL,
	"team_key" text NOT NULL,
	"note" text NOT NULL,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" integer NOT NULL,
	"kind" text NOT NULL,
	"source_key" text NOT NULL,
	"external_id" text,
	"author_id" text NOT NULL,
	"author_name" text,
	"author_handle" text,
	"author_url" text,
	"text" text NOT NULL,
	"url" text,
	"sent_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"slack_channel" text,
	"slack_ts" text
);
--> statement-breakpoint
CREATE TABLE "slack_events" (
	"event_id" text NOT NULL,
	"kind" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "slack_events_event_id_kind_pk" PRIMARY KEY("event_id","kind")
);
--> statement-breakpoint
CREATE TABLE "slack_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" integer NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"ref_id" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"posted_ts" text,
	"posted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "slack_threads" (
	"case_id" integer PRIMARY KEY NOT NULL,
	"channel_id" text NOT NULL,
	"thread_ts" text NOT NULL,
	"posted_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "source_cursors" (
	"source_key" text PRIMARY KEY NOT NULL,
	"cursor" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "case_events" ADD CONSTRAINT "case_events_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slack_outbox" ADD CONSTRAINT "slack_outbox_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "slack_threads" ADD CONSTRAINT "slack_threads_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "case_events_case_idx" ON "case_events" USING btree ("case_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "cases_open_conversation_key" ON "cases" USING btree ("source_key","conversation_id") WHERE "cases"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "cases_card_pending_idx" ON "cases" USING btree ("id") WHERE "cases"."card_posted_version" < "cases"."card_version";--> statement-breakpoint
CREATE INDEX "cases_status_idx" ON "cases" USING btree ("status","opened_at");--> statement-breakpoint
CREATE INDEX "escalations_case_idx" ON "escalations" USING btree ("case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_inbound_key" ON "messages" USING btree ("source_key","external_id") WHERE "messages"."kind" = 'inbound';--> statement-breakpoint
CREATE UNIQUE INDEX "messages_slack_key" ON "messages" USING btree ("slack_channel","slack_ts") WHERE "messages"."slack_ts" is not null;--> statement-breakpoint
CREATE INDEX "messages_case_idx" ON "messages" USING btree ("case_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "slack_outbox_key" ON "slack_outbox" USING btree ("key");--> statement-breakpoint
CREATE INDEX "slack_outbox_pending_idx" ON "slack_outbox" USING btree ("case_id","id") WHERE "slack_outbox"."posted_ts" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "slack_threads_message_key" ON "slack_threads" USING btree ("channel_id","thread_ts");