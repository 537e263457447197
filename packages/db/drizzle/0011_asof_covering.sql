-- Written by hand (drizzle has no INCLUDE). The as-of lookup of SPEC §3 -- the ingest's join of
-- every tap, the card status recompute, the registry's lookups -- as an index-only scan: the
-- btree on (card_id, valid_from desc) now carries the columns those lookups read, so a probe
-- is one index descent (~1 µs) without a heap visit. Without them PostgreSQL's planner chose
-- the GiST exclusion index `matches_one_per_card` for these probes (its estimate is a hair
-- below the btree's), which reads and detoasts a range per entry: ~9-17 µs a probe.
-- Applying it holds writes to `matches` (and the lookups, between the two statements) while the
-- index is built (seconds per million matches): run it in a quiet moment.
DROP INDEX "matches_card_asof_idx";--> statement-breakpoint
CREATE INDEX "matches_card_asof_idx" ON "matches" USING btree ("card_id","valid_from" DESC NULLS LAST) INCLUDE ("id","valid_to","hes_status") WHERE "matches"."retracted_at" is null;
