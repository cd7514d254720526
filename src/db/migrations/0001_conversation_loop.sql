CREATE TABLE "replies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" integer NOT NULL,
	"status" text NOT NULL,
	"author_id" text NOT NULL,
	"text" text NOT NULL,
	"slack_channel" text NOT NULL,
	"slack_ts" text NOT NULL,
	"in_reply_to" text,
	"overridden" jsonb,
	"saved_reply_id" integer,
	"send_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"external_id" text,
	"external_url" text,
	"sent_at" timestamp with time zone,
	"failures" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "saved_replies" (
	"id" serial PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"text" text NOT NULL,
	"uses" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "last_reply_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "previous_case_id" integer;--> statement-breakpoint
ALTER TABLE "replies" ADD CONSTRAINT "replies_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "replies_slack_key" ON "replies" USING btree ("slack_channel","slack_ts");--> statement-breakpoint
CREATE INDEX "replies_due_idx" ON "replies" USING btree ("send_at") WHERE "replies"."status" in ('pending', 'sending');--> statement-breakpoint
CREATE INDEX "replies_case_idx" ON "replies" USING btree ("case_id");--> statement-breakpoint
CREATE UNIQUE INDEX "saved_replies_title_key" ON "saved_replies" USING btree (lower("title")) WHERE "saved_replies"."deleted_at" is null;