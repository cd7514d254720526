CREATE TABLE "sla_reminders" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" integer NOT NULL,
	"key" text NOT NULL,
	"clock" text NOT NULL,
	"stage" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "first_response_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "first_response_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "next_response_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "next_response_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "resolution_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "resolution_remaining_ms" bigint;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "sla_state" text DEFAULT 'ok' NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "sla_next_check_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sla_reminders" ADD CONSTRAINT "sla_reminders_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sla_reminders_key" ON "sla_reminders" USING btree ("key");--> statement-breakpoint
CREATE INDEX "sla_reminders_case_idx" ON "sla_reminders" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "cases_sla_check_idx" ON "cases" USING btree ("sla_next_check_at") WHERE "cases"."sla_next_check_at" is not null;