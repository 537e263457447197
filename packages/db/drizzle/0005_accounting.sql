CREATE TABLE "heartbeat_log" (
	"topic" text NOT NULL,
	"kafka_partition" integer NOT NULL,
	"kafka_offset" bigint NOT NULL,
	"kafka_timestamp" timestamp (3) with time zone NOT NULL,
	"validator_id" text NOT NULL,
	"last_seq" bigint NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"service_day" date NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "heartbeat_log_pkey" PRIMARY KEY("topic","kafka_partition","kafka_offset")
);
--> statement-breakpoint
-- Rows stored before this migration get the SPEC's topic (one taps topic per database); the
-- default is dropped at once so no insert can leave the topic out.
ALTER TABLE "tap_keys" ADD COLUMN "topic" text DEFAULT 'validator.taps.v1' NOT NULL;--> statement-breakpoint
ALTER TABLE "tap_keys" ALTER COLUMN "topic" DROP DEFAULT;--> statement-breakpoint
CREATE INDEX "heartbeat_log_day_idx" ON "heartbeat_log" USING btree ("service_day");--> statement-breakpoint
CREATE INDEX "tap_keys_offset_idx" ON "tap_keys" USING btree ("topic","kafka_partition","kafka_offset");