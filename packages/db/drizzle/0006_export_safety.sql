CREATE TABLE "key_checks" (
	"kind" text NOT NULL,
	"key_id" text NOT NULL,
	"check_value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "key_checks_pkey" PRIMARY KEY("kind","key_id")
);
--> statement-breakpoint
CREATE TABLE "nightly_runs" (
	"fired_at" timestamp with time zone PRIMARY KEY NOT NULL,
	"service_day" date NOT NULL,
	"source" text NOT NULL,
	"planned_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delivery_attempts" ALTER COLUMN "finished_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "export_versions" ALTER COLUMN "delivered_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "export_versions" ADD COLUMN "state" text DEFAULT 'DELIVERED' NOT NULL;--> statement-breakpoint
ALTER TABLE "export_versions" ADD COLUMN "reserved_at" timestamp with time zone DEFAULT now() NOT NULL;