CREATE TABLE "customers" (
	"id" serial PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"author_id" text NOT NULL,
	"person_id" integer,
	"note" text,
	"vip" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "customer_id" integer;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_author_key" ON "customers" USING btree ("platform","author_id");--> statement-breakpoint
CREATE INDEX "customers_person_idx" ON "customers" USING btree ("person_id") WHERE "customers"."person_id" is not null;--> statement-breakpoint
CREATE INDEX "cases_customer_idx" ON "cases" USING btree ("customer_id","id") WHERE "cases"."customer_id" is not null;