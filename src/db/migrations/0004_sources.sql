CREATE TABLE "slack_notices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"channel_id" text NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"posted_ts" text,
	"posted_at" timestamp with time zone,
	"next_attempt_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "source_cursors" ALTER COLUMN "cursor" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "reply_mode" text DEFAULT 'public' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "author_followers" integer;--> statement-breakpoint
ALTER TABLE "source_cursors" ADD COLUMN "next_poll_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "source_cursors" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "source_cursors" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "source_cursors" ADD COLUMN "paused_reason" text;--> statement-breakpoint
CREATE UNIQUE INDEX "slack_notices_key" ON "slack_notices" USING btree ("key");--> statement-breakpoint
CREATE INDEX "slack_notices_pending_idx" ON "slack_notices" USING btree ("id") WHERE "slack_notices"."posted_ts" is null;