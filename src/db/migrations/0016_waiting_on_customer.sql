ALTER TABLE "cases" ADD COLUMN "waiting_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "waiting_nudged_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "cases_waiting_idx" ON "cases" USING btree ("waiting_since") WHERE "cases"."waiting_since" is not null;