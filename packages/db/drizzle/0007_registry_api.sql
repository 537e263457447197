CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"location_id" text,
	"key_hash" "bytea" NOT NULL,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_location_by_channel" CHECK (("api_keys"."channel" in ('KIOSK', 'ACTIVATION_POINT')) = ("api_keys"."location_id" is not null)),
	CONSTRAINT "api_keys_channel" CHECK ("api_keys"."channel" in ('WEB', 'KIOSK', 'ACTIVATION_POINT', 'STAFF')),
	CONSTRAINT "api_keys_hash_length" CHECK (octet_length("api_keys"."key_hash") = 32)
);
--> statement-breakpoint
CREATE TABLE "locations" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "locations_id_slug" CHECK ("locations"."id" ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
	CONSTRAINT "locations_kind" CHECK ("locations"."kind" in ('METRO', 'PIER', 'BUS_HUB'))
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_location_idx" ON "api_keys" USING btree ("location_id");--> statement-breakpoint
-- The real activation points of SPEC §1 (added by hand after drizzle-kit generate: seed data,
-- not schema). A kiosk or activation-point key must name one of these.
INSERT INTO "locations" ("id", "kind", "name") VALUES
	('metro-bornova', 'METRO', 'Bornova Metro'),
	('metro-halkapinar', 'METRO', 'Halkapınar Metro'),
	('metro-cankaya', 'METRO', 'Çankaya Metro'),
	('metro-konak', 'METRO', 'Konak Metro'),
	('metro-ucyol', 'METRO', 'Üçyol Metro'),
	('metro-goztepe', 'METRO', 'Göztepe Metro'),
	('metro-fahrettin-altay', 'METRO', 'Fahrettin Altay Metro'),
	('pier-karsiyaka', 'PIER', 'Karşıyaka İskelesi'),
	('pier-konak', 'PIER', 'Konak İskelesi'),
	('pier-bostanli', 'PIER', 'Bostanlı İskelesi'),
	('bus-konak-bahri-baba', 'BUS_HUB', 'Konak Bahri Baba Aktarma Merkezi'),
	('bus-fahrettin-altay', 'BUS_HUB', 'Fahrettin Altay Aktarma Merkezi');
