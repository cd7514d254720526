CREATE TABLE "assignment_rotation" (
	"key" text PRIMARY KEY NOT NULL,
	"last_user_id" text,
	"lease_until" timestamp with time zone,
	"lease_token" text,
	"nobody_since" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "auto_assigned_at" timestamp with time zone;