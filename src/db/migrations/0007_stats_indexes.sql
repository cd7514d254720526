CREATE INDEX "case_events_type_at_idx" ON "case_events" USING btree ("type","at");--> statement-breakpoint
CREATE INDEX "case_events_next_response_idx" ON "case_events" USING btree ("at") WHERE ("case_events"."type" = 'sla_started' and "case_events"."data"->'clocks' @> '["next_response"]'::jsonb) or ("case_events"."type" = 'sla_stopped' and "case_events"."data"->>'clock' = 'next_response');--> statement-breakpoint
CREATE INDEX "cases_opened_at_idx" ON "cases" USING btree ("opened_at");--> statement-breakpoint
CREATE INDEX "cases_resolved_at_idx" ON "cases" USING btree ("resolved_at") WHERE "cases"."status" = 'resolved';--> statement-breakpoint
CREATE INDEX "escalations_created_at_idx" ON "escalations" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "replies_sent_at_idx" ON "replies" USING btree ("sent_at") WHERE "replies"."status" = 'sent';