ALTER TABLE "slack_events" DISABLE ROW LEVEL SECURITY;--> statement-breakpoint
DROP TABLE "slack_events" CASCADE;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "request_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "escalations_request_key" ON "escalations" USING btree ("request_key");