CREATE TABLE "tc_attempts" (
	"tc_index" "bytea" NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "tc_attempts_tc_index_window_start_pk" PRIMARY KEY("tc_index","window_start"),
	CONSTRAINT "tc_attempts_count_positive" CHECK ("tc_attempts"."count" > 0)
);
--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "hes_status" text;--> statement-breakpoint
ALTER TABLE "registry_audit" ADD COLUMN "key_id" text;--> statement-breakpoint
ALTER TABLE "registry_audit" ADD COLUMN "location_id" text;--> statement-breakpoint
CREATE INDEX "tc_attempts_window_idx" ON "tc_attempts" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "registry_audit_key_idx" ON "registry_audit" USING btree ("key_id");--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_hes_status" CHECK ("matches"."hes_status" is null or "matches"."hes_status" in ('RISKY', 'RISKLESS'));