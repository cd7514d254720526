ALTER TABLE "replies" ADD COLUMN "position" numeric(20, 6);--> statement-breakpoint
UPDATE "replies" SET "position" = extract(epoch from "created_at");--> statement-breakpoint
ALTER TABLE "replies" ALTER COLUMN "position" SET NOT NULL;
