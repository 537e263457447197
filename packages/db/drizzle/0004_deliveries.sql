CREATE TABLE "delivery_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "delivery_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"service_day" date NOT NULL,
	"version" integer NOT NULL,
	"file_name" text NOT NULL,
	"sha256" text NOT NULL,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"trigger" text NOT NULL,
	"target" text NOT NULL,
	"error_code" text,
	"error" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "export_versions" (
	"service_day" date NOT NULL,
	"version" integer NOT NULL,
	"file_name" text NOT NULL,
	"content_sha256" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" bigint NOT NULL,
	"rows" integer NOT NULL,
	"supersedes" integer,
	"manifest_json" text NOT NULL,
	"delivered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "export_versions_pkey" PRIMARY KEY("service_day","version")
);
--> statement-breakpoint
CREATE INDEX "delivery_attempts_day_idx" ON "delivery_attempts" USING btree ("service_day","id");