CREATE TABLE "crisis_alerts" (
	"id" serial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"scope" text NOT NULL,
	"platform" text,
	"opened_at" timestamp with time zone NOT NULL,
	"last_above_at" timestamp with time zone NOT NULL,
	"cleared_at" timestamp with time zone,
	"count" integer NOT NULL,
	"baseline" double precision NOT NULL,
	"peak_count" integer NOT NULL,
	"terms" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"sample_case_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"incident_id" integer
);
--> statement-breakpoint
CREATE TABLE "crisis_periods" (
	"id" serial PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"started_by" text NOT NULL,
	"reason" text NOT NULL,
	"alert_id" integer,
	"lifted_at" timestamp with time zone,
	"lifted_by" text
);
--> statement-breakpoint
CREATE TABLE "incident_cases" (
	"incident_id" integer NOT NULL,
	"case_id" integer NOT NULL,
	"linked_by" text NOT NULL,
	"linked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"status" text DEFAULT 'investigating' NOT NULL,
	"lead_id" text NOT NULL,
	"saved_reply_id" integer,
	"keywords" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"channel_id" text NOT NULL,
	"alert_id" integer,
	"request_key" text NOT NULL,
	"created_by" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "statement_batches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"author_id" text NOT NULL,
	"saved_reply_id" integer,
	"text" text NOT NULL,
	"request_key" text NOT NULL,
	"send_at" timestamp with time zone NOT NULL,
	"queued" integer DEFAULT 0 NOT NULL,
	"skipped" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cancelled_at" timestamp with time zone,
	"cancelled_by" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "batch_id" bigint;--> statement-breakpoint
ALTER TABLE "slack_notices" ADD COLUMN "blocks" jsonb;--> statement-breakpoint
ALTER TABLE "slack_notices" ADD COLUMN "thread_key" text;--> statement-breakpoint
ALTER TABLE "slack_notices" ADD COLUMN "replaces_key" text;--> statement-breakpoint
ALTER TABLE "incident_cases" ADD CONSTRAINT "incident_cases_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_cases" ADD CONSTRAINT "incident_cases_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statement_batches" ADD CONSTRAINT "statement_batches_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "crisis_alerts_open_key" ON "crisis_alerts" USING btree ("scope") WHERE "crisis_alerts"."cleared_at" is null;--> statement-breakpoint
CREATE INDEX "crisis_alerts_opened_at_idx" ON "crisis_alerts" USING btree ("opened_at");--> statement-breakpoint
CREATE UNIQUE INDEX "crisis_periods_active_key" ON "crisis_periods" USING btree (("lifted_at" is null)) WHERE "crisis_periods"."lifted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "incident_cases_case_key" ON "incident_cases" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "incident_cases_incident_idx" ON "incident_cases" USING btree ("incident_id");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_request_key" ON "incidents" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "incidents_opened_at_idx" ON "incidents" USING btree ("opened_at");--> statement-breakpoint
CREATE UNIQUE INDEX "statement_batches_request_key" ON "statement_batches" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "replies_batch_idx" ON "replies" USING btree ("batch_id") WHERE "replies"."batch_id" is not null;