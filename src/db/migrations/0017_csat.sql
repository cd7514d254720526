CREATE TABLE "csat_ratings" (
	"case_id" integer PRIMARY KEY NOT NULL,
	"reply_id" bigint NOT NULL,
	"agent_id" text,
	"asked_at" timestamp with time zone NOT NULL,
	"score" integer,
	"answered_at" timestamp with time zone,
	"answer_message_id" bigint
);
--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "kind" text DEFAULT 'answer' NOT NULL;--> statement-breakpoint
ALTER TABLE "csat_ratings" ADD CONSTRAINT "csat_ratings_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "csat_ratings_answered_idx" ON "csat_ratings" USING btree ("answered_at") WHERE "csat_ratings"."score" is not null;