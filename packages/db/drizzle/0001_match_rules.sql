-- SPEC §3, enforced by PostgreSQL itself: among matches not retracted,
--   a card has at most one match at any instant, and
--   a person (TC) has at most one card at any instant.
-- Ranges are half-open [valid_from, valid_to); a null valid_to is open-ended.
-- btree_gist lets "=" on card_id / person_id sit in a GiST exclusion with "&&" on the range.
-- (btree_gist is a trusted extension: the database owner may create it.)
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_one_per_card"
  EXCLUDE USING gist ("card_id" WITH =, tstzrange("valid_from", "valid_to", '[)') WITH &&)
  WHERE ("retracted_at" IS NULL);
--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_one_per_person"
  EXCLUDE USING gist ("person_id" WITH =, tstzrange("valid_from", "valid_to", '[)') WITH &&)
  WHERE ("retracted_at" IS NULL);
