ALTER TABLE "messages" ADD COLUMN "facts" jsonb;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "delivery_note" text;