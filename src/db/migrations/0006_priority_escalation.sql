ALTER TABLE "cases" ADD COLUMN "priority" text DEFAULT 'P3' NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "priority_reasons" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "urgency" text DEFAULT 'normal' NOT NULL;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "answer" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "answered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "answered_by" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "ack_reminded_at" timestamp with time zone;