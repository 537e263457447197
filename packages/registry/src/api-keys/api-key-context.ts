import type { Db } from '@boarding/db/client';

/** API key verbs touch no personal data: no keyring. `actor` is who ran them (for the audit). */
export type ApiKeyContext = {
  db: Db;
  actor: { id: string; channel: string };
  now?: () => Date;
};

export type ApiKeyView = {
  id: string;
  channel: string;
  locationId: string | null;
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
};
