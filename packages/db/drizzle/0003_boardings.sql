-- Stored taps, one partition per service day (Europe/Istanbul date of tapped_at), created by
-- the ingest when a day first appears (ensure_boardings_partition below). Identity across days
-- is kept by tap_keys; the primary key here is also the export's order (SPEC §4: instant, then
-- validator id in byte order -- hence COLLATE "C" whatever the database's locale --, then seq).
CREATE TABLE "boardings" (
  "service_day" date NOT NULL,
  "validator_id" text COLLATE "C" NOT NULL,
  "seq" bigint NOT NULL,
  "card_no" text NOT NULL,
  "tapped_at" timestamp(3) with time zone NOT NULL,
  "mode" text NOT NULL,
  "line_code" text NOT NULL,
  "vehicle_id" text,
  "stop_code" text,
  "result" text NOT NULL,
  "reject_reason" text,
  "match_id" bigint,
  "kafka_partition" integer NOT NULL,
  "kafka_offset" bigint NOT NULL,
  "kafka_timestamp" timestamp(3) with time zone NOT NULL,
  CONSTRAINT "boardings_pkey" PRIMARY KEY ("service_day", "tapped_at", "validator_id", "seq")
) PARTITION BY RANGE ("service_day");
--> statement-breakpoint
-- Create the partition of one day if it is missing. Two ingest processes (or two partitions
-- of one) may race: the advisory lock serialises them, and the loser, whose statement snapshot
-- cannot yet see the winner's table, gets duplicate_table, which means "it exists": fine.
CREATE FUNCTION ensure_boardings_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  part text := 'boardings_' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(part) IS NOT NULL THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(hashtext('boardings_partition'), (day - date '2000-01-01'));
  BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF boardings FOR VALUES FROM (%L) TO (%L)', part, day, day + 1);
  EXCEPTION WHEN duplicate_table OR unique_violation THEN
    NULL;
  END;
END $$;
