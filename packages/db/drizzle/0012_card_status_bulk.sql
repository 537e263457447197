-- Written by hand (drizzle has no functions). The card status recompute of a bulk change -- a
-- registry import recomputes every card it touched at COMMIT, a million and more -- was one
-- index probe of `matches` per card and two foreign key checks per card (one per derived
-- table), ~40 µs a card measured on 300,000 cards: 12 s at COMMIT for them, most of the
-- import's COMMIT at full size.
--
-- 1. The foreign keys of the two derived tables go. `card_status` and `card_status_outbox` are
--    written only by card_status_recompute, with ids taken from `matches.card_id` (itself a
--    foreign key to `cards`), and no path deletes a card. Their checks were ~23 µs a card
--    (a row lock of the card each, WAL-logged): 7 of the 12 s above, for a guarantee the data
--    already has.
-- 2. A recompute of many cards (at least 1,000, and at least an eighth of `matches` as last
--    analysed: PostgreSQL's own estimate of its size) reads the live matches in one pass, a
--    merge or hash join, instead of one probe per card: 0.3 s instead of 2.4 s for 300,000
--    cards. A few cards (the API, a correction, the clock sweep) keep the probe. The match
--    chosen is the same either way: the live one (not retracted, its range holding the
--    instant) with the latest valid_from.
ALTER TABLE "card_status" DROP CONSTRAINT "card_status_card_id_cards_id_fk";--> statement-breakpoint
ALTER TABLE "card_status_outbox" DROP CONSTRAINT "card_status_outbox_card_id_cards_id_fk";--> statement-breakpoint
CREATE OR REPLACE FUNCTION card_status_recompute(card_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  changed integer;
  at timestamptz := clock_timestamp();
  many boolean := cardinality(card_ids) >= 1000
    AND cardinality(card_ids) * 8 >= (SELECT reltuples FROM pg_class WHERE oid = 'matches'::regclass);
BEGIN
  WITH ids AS (
    SELECT DISTINCT unnest(card_ids) AS id
  ), live AS (
    SELECT c.id AS card_id, m.id, m.hes_status
    FROM ids c
    LEFT JOIN LATERAL (
      SELECT id, hes_status FROM matches
      WHERE card_id = c.id AND retracted_at IS NULL AND valid_from <= at
        AND (valid_to IS NULL OR valid_to > at)
      ORDER BY valid_from DESC LIMIT 1
    ) m ON true
    WHERE NOT many
    UNION ALL
    SELECT c.id, m.id, m.hes_status
    FROM ids c
    LEFT JOIN (
      SELECT DISTINCT ON (card_id) card_id, id, hes_status FROM matches
      WHERE retracted_at IS NULL AND valid_from <= at AND (valid_to IS NULL OR valid_to > at)
      ORDER BY card_id, valid_from DESC
    ) m ON m.card_id = c.id
    WHERE many
  ), current AS (
    SELECT card_id,
      CASE WHEN id IS NULL THEN 'NOT_MATCHED'
           WHEN hes_status = 'RISKY' THEN 'HES_RISKY'
           ELSE 'ALLOWED' END AS status
    FROM live
    ORDER BY card_id
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
