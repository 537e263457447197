CREATE TABLE "cards" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "cards_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"card_no" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cards_card_no_key" UNIQUE("card_no"),
	CONSTRAINT "cards_card_no_format" CHECK ("cards"."card_no" ~ '^[0-9A-F]{8,20}$'),
	CONSTRAINT "cards_kind_valid" CHECK ("cards"."kind" in ('PERSONAL', 'ANONYMOUS'))
);
--> statement-breakpoint
CREATE TABLE "import_runs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "import_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"file_name" text NOT NULL,
	"file_sha256" text NOT NULL,
	"actor" text NOT NULL,
	"outcome" text NOT NULL,
	"rows_read" integer NOT NULL,
	"rows_invalid" integer NOT NULL,
	"matches_inserted" integer NOT NULL,
	"matches_closed" integer NOT NULL,
	"matches_unchanged" integer NOT NULL,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "matches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "matches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"card_id" bigint NOT NULL,
	"person_id" bigint NOT NULL,
	"hes_enc" "bytea" NOT NULL,
	"hes_index" "bytea" NOT NULL,
	"valid_from" timestamp (3) with time zone NOT NULL,
	"valid_to" timestamp (3) with time zone,
	"channel" text NOT NULL,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retracted_at" timestamp with time zone,
	"retract_reason" text,
	"corrected_by" bigint,
	CONSTRAINT "matches_range_not_empty" CHECK ("matches"."valid_to" is null or "matches"."valid_to" > "matches"."valid_from"),
	CONSTRAINT "matches_retract_has_reason" CHECK (("matches"."retracted_at" is null) = ("matches"."retract_reason" is null))
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "persons_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tc_index" "bytea" NOT NULL,
	"tc_enc" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "persons_tc_index_key" UNIQUE("tc_index")
);
--> statement-breakpoint
CREATE TABLE "registry_audit" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "registry_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"channel" text NOT NULL,
	"action" text NOT NULL,
	"card_no" text,
	"person_id" bigint,
	"match_id" bigint,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_card_id_cards_id_fk" FOREIGN KEY ("card_id") REFERENCES "public"."cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "matches_card_asof_idx" ON "matches" USING btree ("card_id","valid_from" DESC NULLS LAST) WHERE "matches"."retracted_at" is null;--> statement-breakpoint
CREATE INDEX "matches_person_idx" ON "matches" USING btree ("person_id","valid_from");--> statement-breakpoint
CREATE INDEX "registry_audit_at_idx" ON "registry_audit" USING btree ("at");--> statement-breakpoint
CREATE INDEX "registry_audit_card_idx" ON "registry_audit" USING btree ("card_no");