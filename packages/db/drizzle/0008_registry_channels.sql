ALTER TABLE "matches" ADD COLUMN "hes_status" text;--> statement-breakpoint
ALTER TABLE "registry_audit" ADD COLUMN "key_id" text;--> statement-breakpoint
ALTER TABLE "registry_audit" ADD COLUMN "location_id" text;--> statement-breakpoint
CREATE INDEX "registry_audit_key_idx" ON "registry_audit" USING btree ("key_id");--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_hes_status" CHECK ("matches"."hes_status" is null or "matches"."hes_status" in ('RISKY', 'RISKLESS'));