ALTER TABLE "cases" ADD COLUMN "sla_lease_token" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "slack_lease_token" text;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "lease_token" text;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "outcome_unknown" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "slack_notices" ADD COLUMN "lease_token" text;--> statement-breakpoint
ALTER TABLE "source_cursors" ADD COLUMN "lease_token" text;