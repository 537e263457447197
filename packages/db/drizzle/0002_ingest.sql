CREATE TABLE "dead_letters" (
	"topic" text NOT NULL,
	"kafka_partition" integer NOT NULL,
	"kafka_offset" bigint NOT NULL,
	"kafka_timestamp" timestamp (3) with time zone NOT NULL,
	"message_key" "bytea",
	"raw_value" "bytea",
	"reason" text NOT NULL,
	"detail" text NOT NULL,
	"validator_id" text,
	"seq" bigint,
	"service_day" date NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dead_letters_pkey" PRIMARY KEY("topic","kafka_partition","kafka_offset")
);
--> statement-breakpoint
CREATE TABLE "duplicate_taps" (
	"topic" text NOT NULL,
	"kafka_partition" integer NOT NULL,
	"kafka_offset" bigint NOT NULL,
	"validator_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"service_day" date NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "duplicate_taps_pkey" PRIMARY KEY("topic","kafka_partition","kafka_offset")
);
--> statement-breakpoint
CREATE TABLE "tap_keys" (
	"validator_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"service_day" date NOT NULL,
	"card_no" text NOT NULL,
	"tapped_at" timestamp (3) with time zone NOT NULL,
	"kafka_partition" integer NOT NULL,
	"kafka_offset" bigint NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tap_keys_pkey" PRIMARY KEY("validator_id","seq")
);
--> statement-breakpoint
CREATE TABLE "validator_days" (
	"validator_id" text NOT NULL,
	"service_day" date NOT NULL,
	"min_seq" bigint NOT NULL,
	"max_seq" bigint NOT NULL,
	"tap_count" bigint NOT NULL,
	"last_tapped_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "validator_days_pkey" PRIMARY KEY("validator_id","service_day")
);
--> statement-breakpoint
CREATE TABLE "validator_heartbeats" (
	"validator_id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	"at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "dead_letters_day_idx" ON "dead_letters" USING btree ("service_day","reason");--> statement-breakpoint
CREATE INDEX "duplicate_taps_day_idx" ON "duplicate_taps" USING btree ("service_day");