CREATE TABLE "card_status" (
	"card_id" bigint PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"since" timestamp (3) with time zone NOT NULL,
	"version" integer NOT NULL,
	CONSTRAINT "card_status_status" CHECK ("card_status"."status" in ('ALLOWED', 'NOT_MATCHED', 'HES_RISKY')),
	CONSTRAINT "card_status_version_positive" CHECK ("card_status"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "card_status_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "card_status_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"card_id" bigint NOT NULL,
	"status" text NOT NULL,
	"since" timestamp (3) with time zone NOT NULL,
	"version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "card_status" ADD CONSTRAINT "card_status_card_id_cards_id_fk" FOREIGN KEY ("card_id") REFERENCES "public"."cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "card_status_outbox" ADD CONSTRAINT "card_status_outbox_card_id_cards_id_fk" FOREIGN KEY ("card_id") REFERENCES "public"."cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "card_status_outbox_unsent_idx" ON "card_status_outbox" USING btree ("id") WHERE "card_status_outbox"."sent_at" is null;--> statement-breakpoint
-- Added by hand after drizzle-kit generate (drizzle has no functions, triggers or unlogged
-- tables): the card status of SPEC §10, kept by the database in the transaction of every change
-- to `matches`, whatever made it (API, CLI, bulk import, correction, retention).
--
-- A card's status as of the clock: NOT_MATCHED without a live (not retracted, in range) match,
-- HES_RISKY when the live match's HES status is RISKY, else ALLOWED (a match nobody asked the
-- HES service about, e.g. imported, is ALLOWED until the refresh says otherwise). Only a change
-- of status bumps the card's version and writes an outbox row; NOTIFY wakes the relay.
CREATE FUNCTION card_status_recompute(card_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  changed integer;
  at timestamptz := clock_timestamp();
BEGIN
  WITH current AS (
    SELECT c.id AS card_id,
      CASE WHEN m.id IS NULL THEN 'NOT_MATCHED'
           WHEN m.hes_status = 'RISKY' THEN 'HES_RISKY'
           ELSE 'ALLOWED' END AS status
    FROM (SELECT DISTINCT unnest(card_ids) AS id) c
    LEFT JOIN LATERAL (
      SELECT id, hes_status FROM matches
      WHERE card_id = c.id AND retracted_at IS NULL AND valid_from <= at
        AND (valid_to IS NULL OR valid_to > at)
      ORDER BY valid_from DESC LIMIT 1
    ) m ON true
    ORDER BY c.id
  ), upserted AS (
    INSERT INTO card_status AS s (card_id, status, since, version)
    SELECT card_id, status, at, 1 FROM current
    ON CONFLICT (card_id) DO UPDATE
      SET status = excluded.status, since = excluded.since, version = s.version + 1
      WHERE s.status <> excluded.status
    RETURNING s.card_id, s.status, s.since, s.version
  )
  INSERT INTO card_status_outbox (card_id, status, since, version)
  SELECT card_id, status, since, version FROM upserted ORDER BY card_id;
  GET DIAGNOSTICS changed = ROW_COUNT;
  IF changed > 0 THEN
    PERFORM pg_notify('card_status_outbox', '');
  END IF;
  RETURN changed;
END $$;
--> statement-breakpoint
-- Cards touched by the open transaction, and one row per such transaction. Statement triggers
-- on `matches` fill them; the status is computed once, at COMMIT, by the deferred trigger on
-- card_status_txn (it fires once: a transaction inserts its row once). So a change made of
-- several statements (end the old match, insert the new one) publishes its final status only,
-- never the moment in between, and a bulk import is one set-based recompute. Unlogged: rows
-- live only inside a transaction and are deleted before it commits.
CREATE UNLOGGED TABLE card_status_pending (
  txid bigint NOT NULL,
  card_id bigint NOT NULL,
  PRIMARY KEY (txid, card_id)
);
--> statement-breakpoint
CREATE UNLOGGED TABLE card_status_txn (txid bigint PRIMARY KEY);
--> statement-breakpoint
CREATE FUNCTION card_status_note(card_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO card_status_pending (txid, card_id)
  SELECT DISTINCT txid_current(), id FROM unnest(card_ids) AS id
  ON CONFLICT DO NOTHING;
  INSERT INTO card_status_txn (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
END $$;
--> statement-breakpoint
CREATE FUNCTION matches_card_status_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM card_status_note(ARRAY(SELECT card_id FROM new_rows));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION matches_card_status_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM card_status_note(ARRAY(SELECT card_id FROM new_rows UNION SELECT card_id FROM old_rows));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION matches_card_status_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM card_status_note(ARRAY(SELECT card_id FROM old_rows));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION card_status_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM card_status_recompute(ARRAY(SELECT card_id FROM card_status_pending WHERE txid = NEW.txid));
  DELETE FROM card_status_pending WHERE txid = NEW.txid;
  DELETE FROM card_status_txn WHERE txid = NEW.txid;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER matches_card_status_insert AFTER INSERT ON matches
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION matches_card_status_after_insert();
--> statement-breakpoint
CREATE TRIGGER matches_card_status_update AFTER UPDATE ON matches
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION matches_card_status_after_update();
--> statement-breakpoint
CREATE TRIGGER matches_card_status_delete AFTER DELETE ON matches
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION matches_card_status_after_delete();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER card_status_txn_commit AFTER INSERT ON card_status_txn
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  EXECUTE FUNCTION card_status_at_commit();
